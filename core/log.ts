import type { Logger } from './types.js';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

/** Line-oriented logger: "<time> <LEVEL> [tag] message {extra}". Readable on a Pi's journal. */
export function createLogger(level: LogLevel = 'info', tag = 'core', sink: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Logger {
  const min = LEVELS[level];
  const write = (lvl: LogLevel, msg: string, extra?: Record<string, unknown>): void => {
    if (LEVELS[lvl] < min) return;
    const tail = extra && Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : '';
    // Messages quote what peers sent: a newline in a charger id must not forge a log line.
    // eslint-disable-next-line no-control-regex
    const safe = msg.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    sink(`${new Date().toISOString()} ${lvl.toUpperCase().padEnd(5)} [${tag}] ${safe}${tail}`);
  };
  return {
    debug: (m, e) => write('debug', m, e),
    info: (m, e) => write('info', m, e),
    warn: (m, e) => write('warn', m, e),
    error: (m, e) => write('error', m, e),
    child: (t) => createLogger(level, t, sink),
  };
}
