import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

export interface Running {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves once the appliance logs that it is listening; rejects if it exits first. */
  listening: Promise<number>;
}

/** Runs the real appliance (app/main.ts) in a child process, as `npm start` does. */
export function runAppliance(env: Record<string, string>): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/main.ts'], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const listening = new Promise<number>((res, rej) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on https?:\/\/[^:]+:(\d+)/.exec(out);
      if (m) res(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => rej(new Error(`appliance exited with ${code} before listening:\n${out}`)));
  });
  listening.catch(() => undefined);
  return { child, output: () => out, exited, listening };
}
