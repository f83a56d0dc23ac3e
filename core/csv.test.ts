import { describe, expect, it } from 'vitest';
import { guardCell, parseCsv, toCsv, unguardCell } from './csv.js';

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

describe('CSV formula guard', () => {
  it('puts a quote before text a spreadsheet would run as a formula', () => {
    expect(toCsv(['a'], [['=1+1'], ['+SUM(A1)'], ['-2+3'], ['@SUM(1)'], ['\t=1'], ['\r=1'], ['plain']])).toBe(
      `a\r\n'=1+1\r\n'+SUM(A1)\r\n'-2+3\r\n'@SUM(1)\r\n'\t=1\r\n"'\r=1"\r\nplain\r\n`,
    );
  });

  it('leaves numbers alone, negative amounts too', () => {
    expect(toCsv(['n', 's'], [[-12.5, '-3.20'], [0, '+7']])).toBe('n,s\r\n-12.5,-3.20\r\n0,+7\r\n');
  });

  it('is undone exactly by unguardCell, text that already starts with a quote included', () => {
    for (const text of ['=1+1', "'=1+1", "''@x", "'plain", '-5', "'-5", '\t=1', 'ok']) {
      expect(unguardCell(guardCell(text))).toBe(text);
    }
    expect(unguardCell("'-5")).toBe("'-5");
  });
});
