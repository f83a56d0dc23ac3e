/** One part of a multipart/form-data body. */
export interface Part {
  /** The form field name. */
  name: string | null;
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

function boundaryOf(contentType: string): string | null {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2] ?? null) : null;
}

function param(header: string, key: string): string | null {
  const m = new RegExp(`${key}\\*?=(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(header);
  if (!m) return null;
  const v = m[1] ?? m[2] ?? '';
  // RFC 5987 form: filename*=UTF-8''name
  const ext = /^UTF-8''(.*)$/i.exec(v);
  return ext ? decodeURIComponent(ext[1]!) : v;
}

/**
 * Splits a multipart/form-data body into its parts (RFC 7578). Chargers
 * upload their diagnostics file as one part with a filename; the body is
 * binary, so this works on bytes, not strings.
 */
export function parseMultipart(body: Buffer, contentType: string): Part[] {
  const boundary = boundaryOf(contentType);
  if (!boundary) throw new Error('multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new Error('multipart boundary not found in the body');
  for (;;) {
    pos += delimiter.length;
    // "--" after a delimiter ends the body.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break;
    const headerStart = body.indexOf('\r\n', pos) + 2;
    const headerEnd = body.indexOf('\r\n\r\n', headerStart);
    if (headerStart < 2 || headerEnd < 0) throw new Error('multipart part without headers');
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw new Error('multipart body is cut short (no closing boundary)');
    const headers = body.subarray(headerStart, headerEnd).toString('utf8').split('\r\n');
    const disposition = headers.find((h) => /^content-disposition:/i.test(h)) ?? '';
    const type = headers.find((h) => /^content-type:/i.test(h));
    parts.push({
      name: param(disposition, 'name'),
      filename: param(disposition, 'filename'),
      contentType: type ? type.slice(type.indexOf(':') + 1).trim() : null,
      data: body.subarray(headerEnd + 4, next),
    });
    pos = next + 2;
  }
  return parts;
}
