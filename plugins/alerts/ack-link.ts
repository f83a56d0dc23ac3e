import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a signed acknowledgement link carries. */
export interface AckClaim {
  /** Alert id. */
  a: number;
  /** Expiry, epoch ms. */
  e: number;
  /** Random nonce: each link can be used once. */
  n: string;
  /** Channel the link was sent through (recorded as who acknowledged). */
  c: string;
}

const b64 = (b: Buffer) => b.toString('base64url');

export function signAck(secret: string, claim: Omit<AckClaim, 'n'>): string {
  const body = b64(Buffer.from(JSON.stringify({ ...claim, n: b64(randomBytes(9)) })));
  const mac = b64(createHmac('sha256', secret).update(body).digest());
  return `${body}.${mac}`;
}

/** The claim of a well-signed token (expired or not), or null for anything forged or garbled. */
export function verifyAck(secret: string, token: string): AckClaim | null {
  const [body, mac, extra] = token.split('.');
  if (!body || !mac || extra !== undefined) return null;
  const want = createHmac('sha256', secret).update(body).digest();
  const got = Buffer.from(mac, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return null;
  try {
    const claim = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as AckClaim;
    if (typeof claim.a !== 'number' || typeof claim.e !== 'number' || typeof claim.n !== 'string') return null;
    return claim;
  } catch {
    return null;
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The small page the ack link answers with. With `button`, the page holds a
 * form that POSTs back to the same link: opening the link only asks, since
 * mail scanners and link previews open every link they see.
 */
export function ackPage(title: string, lines: string[], link?: string, button?: string): string {
  const form = button ? `<form method="post"><button type="submit">${escapeHtml(button)}</button></form>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}h1{font-size:1.4rem}button{font:inherit;font-size:1.1rem;padding:.6rem 1.4rem;border-radius:.4rem;border:0;background:#1d4ed8;color:#fff;cursor:pointer}</style></head>
<body><h1>${escapeHtml(title)}</h1>${lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('')}${form}${link ? `<p><a href="${escapeHtml(link)}">Open ChargeKeeper</a></p>` : ''}</body></html>`;
}
