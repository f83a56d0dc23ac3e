import { describe, expect, it } from 'vitest';
import { parseMultipart } from './multipart.js';

describe('multipart/form-data parsing', () => {
  it('finds the uploaded file with its name and exact bytes, next to plain fields', async () => {
    const bytes = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x0d, 0x0a, 0x2d, 0x2d, 0x00, 0xff]);
    const form = new FormData();
    form.append('note', 'hello');
    form.append('file', new Blob([bytes], { type: 'application/zip' }), 'diag CP1.zip');
    const res = new Response(form);
    const body = Buffer.from(await res.arrayBuffer());
    const parts = parseMultipart(body, res.headers.get('content-type')!);
    expect(parts.map((p) => p.name)).toEqual(['note', 'file']);
    expect(parts[0]!.data.toString()).toBe('hello');
    expect(parts[1]).toMatchObject({ filename: 'diag CP1.zip', contentType: 'application/zip' });
    expect(Buffer.compare(parts[1]!.data, bytes)).toBe(0);
  });

  it('refuses a body without its boundary or cut short', () => {
    expect(() => parseMultipart(Buffer.from('x'), 'multipart/form-data')).toThrow(/boundary/);
    expect(() => parseMultipart(Buffer.from('--b\r\ncontent-disposition: form-data; name="a"\r\n\r\nabc'), 'multipart/form-data; boundary=b')).toThrow(/cut short/);
  });
});
