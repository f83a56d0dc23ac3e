import { describe, expect, it } from 'vitest';
import { parseCsv, toCsv } from './csv.js';

describe('CSV reading and writing', () => {
  it('reads quoted cells holding commas, quotes and line breaks, and numbers records by their first line', () => {
    const { records } = parseCsv('idTag,note\r\nA,"one, two"\n\nB,"say ""hi""\nsecond line"\nC,plain\n');
    expect(records).toEqual([
      { line: 1, cells: ['idTag', 'note'] },
      { line: 2, cells: ['A', 'one, two'] },
      { line: 4, cells: ['B', 'say "hi"\nsecond line'] },
      { line: 6, cells: ['C', 'plain'] },
    ]);
  });

  it('uses semicolons when the header has no comma', () => {
    expect(parseCsv('\uFEFFidTag;status\nX;Blocked').records.map((r) => r.cells)).toEqual([['idTag', 'status'], ['X', 'Blocked']]);
  });

  it('reports a quote that is never closed with the line it opened on', () => {
    expect(parseCsv('idTag,note\nA,"open\nB,x\n').error).toEqual({ line: 2, message: 'a quoted cell is never closed' });
  });

  it('writes what it reads back', () => {
    const text = toCsv(['a', 'b'], [['x,y', 'say "hi"'], [null, 3], ['multi\nline', ' padded']]);
    expect(parseCsv(text).records.map((r) => r.cells)).toEqual([['a', 'b'], ['x,y', 'say "hi"'], ['', '3'], ['multi\nline', ' padded']]);
  });
});
