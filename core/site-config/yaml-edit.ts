import { isMap, isScalar, isSeq, parseDocument, visit, type Document } from 'yaml';
import { maskSecrets } from '../settings.js';

/** A section of the site file by its path: `site`, `plugins.alerts`, `meters`. */
export type SectionPath = string[];

export function parseSite(text: string): Document {
  return parseDocument(text, { keepSourceTokens: false });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Writes a value into the document node by node, so that what did not change
 * keeps its comments, quoting and place: an installer's notes in the file
 * survive an edit from the UI.
 */
export function assign(doc: Document, path: Array<string | number>, value: unknown): void {
  const node = doc.getIn(path, true);
  if (isMap(node) && isPlainObject(value)) {
    for (const item of [...node.items]) {
      const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
      if (!(key in value)) node.delete(item.key);
    }
    for (const [k, v] of Object.entries(value)) assign(doc, [...path, k], v);
    return;
  }
  if (isSeq(node) && Array.isArray(value)) {
    value.forEach((v, i) => assign(doc, [...path, i], v));
    node.items.splice(value.length);
    return;
  }
  if (isScalar(node) && !(value && typeof value === 'object') && node.value === value) return;
  if (path.length > 1 && !isMap(doc.getIn(path.slice(0, -1), true)) && !isSeq(doc.getIn(path.slice(0, -1), true))) {
    // The parent is empty ("users:") or missing: it becomes a mapping.
    assign(doc, path.slice(0, -1), { [String(path[path.length - 1])]: value });
    return;
  }
  doc.setIn(path, doc.createNode(value));
}

/** The text with one section replaced (value) or removed (undefined). */
export function withSection(text: string, path: SectionPath, value: unknown): string {
  const doc = parseSite(text);
  if (value === undefined) {
    if (doc.hasIn(path)) doc.deleteIn(path);
  } else if (!doc.contents || !isMap(doc.contents)) {
    doc.contents = doc.createNode({}) as typeof doc.contents;
    assign(doc, path, value);
  } else {
    assign(doc, path, value);
  }
  return doc.toString();
}

/** A section as written in the file (${NAME} kept as written), undefined when absent. */
export function sectionOf(file: string | Document, path: SectionPath): unknown {
  // A parsed document is reused by callers reading many sections of one file.
  const doc = typeof file === 'string' ? parseSite(file) : file;
  if (!doc.hasIn(path)) return undefined;
  const value: unknown = doc.getIn(path);
  const js: unknown = value && typeof value === 'object' && 'toJSON' in value ? (value as { toJSON(): unknown }).toJSON() : value;
  return js ?? {};
}

/** The file's text with every secret masked, fit to be shown as a diff. */
export function maskedText(text: string): string {
  const doc = parseSite(text);
  visit(doc, {
    Pair(_, pair) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (isScalar(pair.value) && typeof pair.value.value === 'string') {
        const masked = maskSecrets(pair.value.value, key);
        if (masked !== pair.value.value) pair.value.value = masked;
      }
    },
    Scalar(key, node, path) {
      // A list item under a secret key (tokens: [...]) is masked too.
      if (typeof key !== 'number' || typeof node.value !== 'string') return;
      const owner = path[path.length - 2];
      const name = owner && 'key' in owner && isScalar(owner.key) ? String(owner.key.value) : '';
      const masked = maskSecrets(node.value, name);
      if (masked !== node.value) node.value = masked;
    },
  });
  return doc.toString();
}

/**
 * A value sent back from the UI with masked secrets: where it still holds the
 * mask the current secret is kept, so a secret is never shown yet never lost.
 */
export function keepSecrets(incoming: unknown, current: unknown, key = ''): unknown {
  if (Array.isArray(incoming)) {
    return incoming.map((v, i) => keepSecrets(v, Array.isArray(current) ? current[i] : undefined, key));
  }
  if (isPlainObject(incoming)) {
    const cur = isPlainObject(current) ? current : {};
    return Object.fromEntries(Object.entries(incoming).map(([k, v]) => [k, keepSecrets(v, cur[k], k)]));
  }
  if (typeof incoming === 'string' && typeof current === 'string' && current !== incoming) {
    const masked = maskSecrets(current, key);
    if (masked !== current && masked === incoming) return current;
  }
  return incoming;
}
