import type ModbusRTU from 'modbus-serial';
import { DeviceError } from '../../core/errors.js';
import type { Logger } from '../../core/types.js';
import type { FunctionKind, Transport } from './model.js';

export const ADAPTER = 'modbus-meter';

/** Where a bus is: a TCP host (Modbus TCP or raw RTU frames over TCP) or a serial device (RTU). */
export interface LinkOptions {
  transport: Transport;
  host?: string;
  port?: number;
  device?: string;
  baudRate?: number;
  parity?: 'none' | 'even' | 'odd';
  dataBits?: 7 | 8;
  stopBits?: 1 | 2;
}

export interface ReadRequest {
  unitId: number;
  fn: FunctionKind;
  addr: number;
  count: number;
  /** How long the device may take to answer this request. */
  timeoutMs: number;
}

export interface BackoffOptions {
  /** Wait after the first failed connection attempt; doubles per failure. */
  initialMs: number;
  maxMs: number;
}

type Client = InstanceType<typeof ModbusRTU.default>;

/** Requests waiting on one bus beyond this are refused instead of piling up behind a dead device. */
const MAX_QUEUED = 64;
/** Consecutive timeouts after which a TCP connection is presumed half-dead and reopened. */
const TIMEOUTS_BEFORE_RECONNECT = 2;

/** One name per physical bus: meters with the same key share one connection. */
export function linkKey(o: LinkOptions): string {
  return o.transport === 'rtu' ? `rtu:${o.device}` : `${o.transport}://${o.host}:${o.port ?? 502}`;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

/**
 * One connection to one bus (a Modbus TCP device or gateway, an RTU-over-TCP
 * gateway, or a serial line). Requests are queued and sent one at a time, so
 * meters sharing the bus never interleave. Connecting is lazy; a failed
 * connect is retried with exponential backoff, and while waiting requests
 * fail at once instead of blocking.
 */
export class ModbusLink {
  readonly key: string;
  #opts: LinkOptions;
  #log: Logger;
  #backoff: BackoffOptions;
  #client: Client | null = null;
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #connectFailures = 0;
  #retryAtMs = 0;
  #lastConnectError = '';
  #timeoutsInRow = 0;
  #closed = false;

  constructor(opts: LinkOptions, log: Logger, backoff: BackoffOptions = { initialMs: 1000, maxMs: 60_000 }) {
    this.#opts = opts;
    this.key = linkKey(opts);
    this.#log = log;
    this.#backoff = backoff;
  }

  get connected(): boolean {
    return this.#client !== null;
  }

  /** Reads registers; resolves with one uint16 per register, rejects with a DeviceError. */
  read(req: ReadRequest): Promise<number[]> {
    if (this.#closed) return Promise.reject(new DeviceError(ADAPTER, `${this.key} is closed`, false));
    if (this.#queued >= MAX_QUEUED) {
      return Promise.reject(new DeviceError(ADAPTER, `${this.key}: ${MAX_QUEUED} requests already waiting`, true));
    }
    this.#queued++;
    const run = this.#tail.then(() => this.#run(req));
    this.#tail = run.catch(() => undefined);
    return run.finally(() => { this.#queued--; });
  }

  /** Closes the connection; queued requests fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#tail;
    this.#drop();
  }

  async #run(req: ReadRequest): Promise<number[]> {
    if (this.#closed) throw new DeviceError(ADAPTER, `${this.key} is closed`, false);
    const client = await this.#open(req.timeoutMs);
    client.setID(req.unitId);
    client.setTimeout(req.timeoutMs);
    const what = `unit ${req.unitId} ${req.fn} registers ${req.addr}..${req.addr + req.count - 1}`;
    try {
      const pending = req.fn === 'input' ? client.readInputRegisters(req.addr, req.count) : client.readHoldingRegisters(req.addr, req.count);
      // The library has its own timeout; this one also covers a port that dies without a word.
      const res = await within(pending, req.timeoutMs + 250, () => Object.assign(new Error('Timed out'), { name: 'TransactionTimedOutError' }));
      this.#timeoutsInRow = 0;
      if (!Array.isArray(res.data) || res.data.length !== req.count) {
        throw new DeviceError(ADAPTER, `${this.key}: ${what}: answered ${res.data?.length ?? 0} registers`, true);
      }
      return res.data;
    } catch (err) {
      throw this.#classify(err, what, req.timeoutMs);
    }
  }

  #classify(err: unknown, what: string, timeoutMs: number): DeviceError {
    if (err instanceof DeviceError) return err;
    const e = err as { modbusCode?: number; name?: string; errno?: string };
    if (typeof e?.modbusCode === 'number') {
      this.#timeoutsInRow = 0;
      // An exception reply: the device is there but refuses this request (wrong model or address).
      return new DeviceError(ADAPTER, `${this.key}: ${what}: ${describeError(err)}`, false, err);
    }
    if (e?.name === 'TransactionTimedOutError' || e?.errno === 'ETIMEDOUT') {
      this.#timeoutsInRow++;
      // On a serial line a silent unit is normal (it may be just that meter); over TCP repeated silence means a stale socket.
      if (this.#opts.transport !== 'rtu' && this.#timeoutsInRow >= TIMEOUTS_BEFORE_RECONNECT) {
        this.#log.debug(`${this.key}: ${this.#timeoutsInRow} timeouts in a row, reconnecting`);
        this.#drop();
        this.#timeoutsInRow = 0;
      }
      return new DeviceError(ADAPTER, `${this.key}: ${what}: no answer in ${timeoutMs} ms`, true, err);
    }
    this.#drop();
    return new DeviceError(ADAPTER, `${this.key}: ${what}: ${describeError(err)}`, true, err);
  }

  async #open(timeoutMs: number): Promise<Client> {
    if (this.#client) return this.#client;
    const now = Date.now();
    if (now < this.#retryAtMs) {
      throw new DeviceError(ADAPTER, `${this.key}: not connected (${this.#lastConnectError}); next attempt in ${Math.ceil((this.#retryAtMs - now) / 1000)} s`, true);
    }
    // Loaded on first use: a site without meters never pays its memory.
    const Modbus = (await import('modbus-serial')).default;
    const client = new Modbus.default();
    // Without a listener an 'error' event would throw out of the event loop.
    client.on('error', (err) => this.#log.debug(`${this.key}: ${describeError(err)}`));
    client.setTimeout(Math.max(timeoutMs, 1000));
    const o = this.#opts;
    try {
      const connecting = o.transport === 'tcp'
        ? client.connectTCP(o.host!, { port: o.port ?? 502 })
        : o.transport === 'rtu-over-tcp'
          ? client.connectTelnet(o.host!, { port: o.port ?? 502 })
          : client.connectRTUBuffered(o.device!, {
            baudRate: o.baudRate ?? 9600, parity: o.parity ?? 'none', dataBits: o.dataBits ?? 8, stopBits: o.stopBits ?? 1,
          });
      await within(connecting, Math.max(timeoutMs, 3000), () => new Error('connect timed out'));
    } catch (err) {
      destroy(client);
      this.#connectFailures++;
      const wait = Math.min(this.#backoff.initialMs * 2 ** (this.#connectFailures - 1), this.#backoff.maxMs);
      this.#retryAtMs = Date.now() + wait;
      const reason = describeError(err) || 'connection failed';
      if (reason !== this.#lastConnectError || this.#connectFailures === 1) {
        this.#log.warn(`${this.key}: cannot connect: ${reason}; retrying with backoff`);
      }
      this.#lastConnectError = reason;
      throw new DeviceError(ADAPTER, `${this.key}: cannot connect: ${reason}`, true, err);
    }
    if (this.#connectFailures > 0) this.#log.info(`${this.key}: connected after ${this.#connectFailures} failed attempt(s)`);
    this.#connectFailures = 0;
    this.#lastConnectError = '';
    client.on('close', () => {
      if (this.#client === client) this.#client = null;
    });
    this.#client = client;
    return client;
  }

  #drop(): void {
    const client = this.#client;
    this.#client = null;
    if (client) destroy(client);
  }
}

function destroy(client: Client): void {
  try {
    client.destroy(() => undefined);
  } catch {
    // Already closed: nothing to release.
  }
}

function within<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(onTimeout()), ms); });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The buses of one running adapter: meters on the same host:port or device share one ModbusLink. */
export class LinkPool {
  #links = new Map<string, ModbusLink>();
  #log: Logger;
  #backoff: BackoffOptions | undefined;

  constructor(log: Logger, backoff?: BackoffOptions) {
    this.#log = log;
    this.#backoff = backoff;
  }

  /** The link for this bus; backoff applies when this call creates it. */
  get(opts: LinkOptions, backoff?: BackoffOptions): ModbusLink {
    const key = linkKey(opts);
    let link = this.#links.get(key);
    if (!link) {
      link = new ModbusLink(opts, this.#log, backoff ?? this.#backoff);
      this.#links.set(key, link);
    }
    return link;
  }

  get size(): number {
    return this.#links.size;
  }

  async closeAll(): Promise<void> {
    const links = [...this.#links.values()];
    this.#links.clear();
    await Promise.all(links.map((l) => l.close()));
  }
}
