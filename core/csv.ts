/** One CSV record and the line of the file it starts on (1 = header). */
export interface CsvRecord { line: number; cells: string[] }

/**
 * Parses RFC 4180 CSV: quoted cells may hold the delimiter, quotes ("") and
 * line breaks. The delimiter is a comma, or a semicolon when the header has
 * semicolons and no comma (spreadsheets in many European locales write those).
 * Blank lines are skipped. An unterminated quote is reported, not guessed.
 */
export function parseCsv(text: string): { records: CsvRecord[]; error?: { line: number; message: string } } {
  const body = text.replace(/^\uFEFF/, '');
  const firstLine = body.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = !firstLine.includes(',') && firstLine.includes(';') ? ';' : ',';
  const records: CsvRecord[] = [];
  let cells: string[] = [];
  let cell = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let quoteLine = 0;
  const endRecord = () => {
    cells.push(cell);
    if (cells.length > 1 || cells[0]!.trim() !== '') records.push({ line: start, cells });
    cells = [];
    cell = '';
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"') {
        if (body[i + 1] === '"') { cell += '"'; i++; } else quoted = false;
      } else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"' && cell.trim() === '') {
      quoted = true;
      quoteLine = line;
      cell = '';
    } else if (c === delimiter) {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && body[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else cell += c;
  }
  if (quoted) return { records, error: { line: quoteLine, message: 'a quoted cell is never closed' } };
  if (cell !== '' || cells.length) endRecord();
  return { records };
}

/** A value of one CSV cell; null and undefined write an empty cell. */
export type Cell = string | number | null | undefined;

// A spreadsheet runs a cell starting with = + - @ (or tab, CR) as a formula; names, card ids and notes come from
// people and chargers and could be crafted to (OWASP "CSV injection"). Leading quotes count too, so the guard
// is reversible: a cell that already starts with ' before such a character gets one more.
const FORMULA = /^'*[=+\-@\t\r]/;
const GUARDED = /^'+[=+\-@\t\r]/;
// A plain signed number is no formula: negative amounts stay numbers in the spreadsheet.
const NUMBER = /^[+-]?\d+(\.\d+)?$/;

/** A text cell defused against spreadsheet formulas with a leading ' (numbers are left alone). */
export function guardCell(text: string): string {
  return FORMULA.test(text) && !NUMBER.test(text) ? `'${text}` : text;
}

/** Undoes guardCell on a cell read back from an exported file. */
export function unguardCell(text: string): string {
  return GUARDED.test(text) && !NUMBER.test(text.slice(1)) ? text.slice(1) : text;
}

const needsQuotes = /[",\r\n]|^\s|\s$/;

/**
 * Writes rows as RFC 4180 CSV with a header and CRLF line ends. Text cells are defused against spreadsheet
 * formulas (guardCell); cells with delimiters, quotes, line breaks or edge spaces are quoted.
 */
export function toCsv(header: string[], rows: Cell[][]): string {
  return csvLines([header, ...rows]);
}

/** Rows as CSV lines, each ending in CRLF: a file written in parts (a streamed export) is the same as one written whole. */
export function csvLines(rows: Cell[][]): string {
  const cell = (v: Cell) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'number' ? String(v) : guardCell(v);
    return needsQuotes.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  let out = '';
  for (const r of rows) out += `${r.map(cell).join(',')}\r\n`;
  return out;
}
