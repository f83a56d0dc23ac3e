// The benchmark's tools: child processes of the servers, their CPU, memory and bytes written from /proc,
// and latencies per action. Used by bench/ocpp-load.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

export interface Server { name: string; child: ChildProcess; port: number; startupMs: number; stop(): Promise<void> }

export function startProcess(name: string, argv: string[], env: Record<string, string>): Promise<Server> {
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((res, rej) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on https?:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        child.stdout!.off('data', onData);
        // Keep draining: stdout to a pipe is synchronous on Linux, so a full pipe would stall the server.
        child.stdout!.resume();
        res({
          name, child, port: Number(m[1]), startupMs: performance.now() - t0,
          stop: () => new Promise((r) => { child.once('exit', () => r()); child.kill('SIGTERM'); }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => rej(new Error(`${name} exited ${code}: ${out}`)));
  });
}

/** CPU time a process has used so far, all threads, in milliseconds. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ ticks
}

/** Bytes a process has sent to storage (write_bytes) and passed to write() (wchar) so far. */
export function ioBytes(pid: number): { disk: number; written: number } {
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return { disk: Number(/write_bytes:\s+(\d+)/.exec(io)?.[1] ?? 0), written: Number(/wchar:\s+(\d+)/.exec(io)?.[1] ?? 0) };
}

export function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}


/** This process's CPU time (the load generator), in milliseconds. */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export class Latencies {
  #by = new Map<string, number[]>();
  errors = 0;
  add(action: string, ms: number) {
    const list = this.#by.get(action) ?? [];
    list.push(ms);
    this.#by.set(action, list);
  }
  async time<T>(action: string, fn: () => Promise<T>): Promise<T | undefined> {
    const t0 = performance.now();
    try {
      const r = await fn();
      this.add(action, performance.now() - t0);
      return r;
    } catch {
      this.errors += 1;
      return undefined;
    }
  }
  rows(): string[] {
    const q = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))]!.toFixed(1);
    return [...this.#by.entries()].map(([a, xs]) => {
      xs.sort((x, y) => x - y);
      return `| ${a} | ${xs.length} | ${q(xs, 0.5)} | ${q(xs, 0.99)} | ${xs[xs.length - 1]!.toFixed(1)} |`;
    });
  }
  p99(): number {
    let worst = 0;
    for (const xs of this.#by.values()) {
      xs.sort((x, y) => x - y);
      worst = Math.max(worst, xs[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))]!);
    }
    return worst;
  }
}
