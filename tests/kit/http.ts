import { request } from 'node:http';

/** An open Server-Sent Events response; `ended` resolves when the server closes it. */
export interface OpenStream {
  status: number;
  events: string[];
  ended: Promise<void>;
  close(): void;
}

/** Opens GET /api/events?... over a real socket and records the event names it streams. */
export function openEvents(port: number, query: string): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/api/events?${query}`, method: 'GET' }, (res) => {
      const events: string[] = [];
      let buffer = '';
      const ended = new Promise<void>((done) => { res.once('end', done); res.once('close', done); });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (const m of buffer.matchAll(/^event: (.+)$/gm)) events.push(m[1]!);
        buffer = buffer.slice(buffer.lastIndexOf('\n') + 1);
      });
      resolve({ status: res.statusCode ?? 0, events, ended, close: () => req.destroy() });
    });
    req.once('error', reject);
    req.end();
  });
}

/** Resolves true when the promise settles within ms, false otherwise. */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([p.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
