import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import ModbusRTU from 'modbus-serial';
import type { Fixture, FunctionKind } from './model.js';

/** One request as the simulator saw it. */
export interface SeenRequest {
  unitId: number;
  fn: FunctionKind;
  addr: number;
  count: number;
}

export interface SimulatorOptions {
  /** 'tcp' = Modbus TCP (modbus-serial's ServerTCP); 'rtu' = raw RTU frames over TCP, as cheap RS485 gateways speak. */
  framing?: 'tcp' | 'rtu';
  /** Loopback only; a fixed port lets a test stop and restart "the same" meter. */
  port?: number;
  /** How long each answer takes, to expose overlapping requests. */
  delayMs?: number;
}

/**
 * A Modbus meter (or a gateway with several) on a loopback port, for tests
 * and the harness. Registers are set per unit; unset ones read 0; a unit
 * that was never set, or is `silent`, does not answer at all (like a dead
 * meter on a bus). It records every request and the most requests it ever
 * had in progress at once.
 */
export class MeterSimulator {
  port = 0;
  readonly framing: 'tcp' | 'rtu';
  delayMs: number;
  /** Units that stop answering (requests time out). */
  readonly silent = new Set<number>();
  readonly requests: SeenRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  #units = new Map<number, Record<FunctionKind, Map<number, number>>>();
  #ranges = new Map<number, Array<[number, number]>>();
  #server: InstanceType<typeof ModbusRTU.ServerTCP> | Server | null = null;
  #sockets = new Set<Socket>();
  #timers = new Set<NodeJS.Timeout>();

  private constructor(opts: SimulatorOptions) {
    this.framing = opts.framing ?? 'tcp';
    this.delayMs = opts.delayMs ?? 0;
  }

  static async start(opts: SimulatorOptions = {}): Promise<MeterSimulator> {
    const sim = new MeterSimulator(opts);
    await sim.listen(opts.port ?? (await freePort()));
    return sim;
  }

  /** Sets raw registers of one unit: { 0x0034: 17752, ... }. */
  set(unitId: number, fn: FunctionKind, registers: Record<number, number>): void {
    const unit = this.#unit(unitId);
    for (const [addr, value] of Object.entries(registers)) unit[fn].set(Number(addr), value & 0xffff);
  }

  /**
   * Restricts one unit's holding registers to these [first, last] ranges: a read reaching
   * outside them gets exception 2 (illegal data address), as real devices answer.
   */
  restrict(unitId: number, ranges: Array<[number, number]>): void {
    this.#unit(unitId);
    this.#ranges.set(unitId, ranges);
  }

  /** Serves a model fixture's registers as one unit. */
  load(unitId: number, fixture: Fixture): void {
    this.#unit(unitId);
    for (const fn of ['input', 'holding'] as const) {
      const regs = fixture.registers[fn] ?? {};
      this.set(unitId, fn, Object.fromEntries(Object.entries(regs).map(([a, v]) => [Number(a), v])));
    }
  }

  /** Writes a float32 (high word first) — for tests that change a live value. */
  setFloat(unitId: number, fn: FunctionKind, addr: number, value: number): void {
    const b = Buffer.alloc(4);
    b.writeFloatBE(value);
    this.set(unitId, fn, { [addr]: b.readUInt16BE(0), [addr + 1]: b.readUInt16BE(2) });
  }

  #unit(unitId: number): Record<FunctionKind, Map<number, number>> {
    let unit = this.#units.get(unitId);
    if (!unit) {
      unit = { input: new Map(), holding: new Map() };
      this.#units.set(unitId, unit);
    }
    return unit;
  }

  /** Answers a read (values, or an exception code), or never for an unknown or silent unit. */
  #answer(req: SeenRequest, reply: (values: number[] | { exception: number }) => void): void {
    this.requests.push(req);
    const unit = this.#units.get(req.unitId);
    if (!unit || this.silent.has(req.unitId)) return;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const ranges = req.fn === 'holding' ? this.#ranges.get(req.unitId) : undefined;
    const inside = !ranges || ranges.some(([first, last]) => req.addr >= first && req.addr + req.count - 1 <= last);
    const values = inside ? Array.from({ length: req.count }, (_, i) => unit[req.fn].get(req.addr + i) ?? 0) : { exception: 2 };
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.inFlight--;
      reply(values);
    }, this.delayMs);
    this.#timers.add(timer);
  }

  async listen(port: number): Promise<void> {
    this.port = port;
    if (this.framing === 'tcp') {
      const many = (fn: FunctionKind) => (addr: number, length: number, unitId: number, cb: (err: Error | null, v: number[]) => void) => {
        this.#answer({ unitId, fn, addr, count: length }, (v) => (Array.isArray(v) ? cb(null, v) : cb(Object.assign(new Error('illegal data address'), { modbusErrorCode: v.exception }), [])));
      };
      const one = (fn: FunctionKind) => (addr: number, unitId: number, cb: (err: Error | null, v: number) => void) => {
        this.#answer({ unitId, fn, addr, count: 1 }, (v) => (Array.isArray(v) ? cb(null, v[0]!) : cb(Object.assign(new Error('illegal data address'), { modbusErrorCode: v.exception }), 0)));
      };
      const server = new ModbusRTU.ServerTCP({
        getMultipleInputRegisters: many('input'), getMultipleHoldingRegisters: many('holding'),
        getInputRegister: one('input'), getHoldingRegister: one('holding'),
      }, { host: '127.0.0.1', port, unitID: 255 });
      await new Promise<void>((resolve, reject) => {
        server.on('initialized', () => resolve());
        server.on('serverError', (err) => reject(err));
      });
      server.on('socketError', () => undefined);
      this.#server = server;
      return;
    }
    const server = createServer((sock) => this.#rtuConnection(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  #rtuConnection(sock: Socket): void {
    this.#sockets.add(sock);
    sock.on('close', () => this.#sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (data) => {
      buf = Buffer.concat([buf, data]);
      // Read requests (functions 3 and 4) are always 8 bytes.
      while (buf.length >= 8) {
        const frame = buf.subarray(0, 8);
        buf = buf.subarray(8);
        if (crc16(frame.subarray(0, 6)) !== frame.readUInt16LE(6)) continue;
        const [unitId, code] = [frame[0]!, frame[1]!];
        if (code !== 3 && code !== 4) continue;
        const req: SeenRequest = { unitId, fn: code === 4 ? 'input' : 'holding', addr: frame.readUInt16BE(2), count: frame.readUInt16BE(4) };
        this.#answer(req, (values) => {
          if (!Array.isArray(values)) {
            const ex = Buffer.from([unitId, code | 0x80, values.exception, 0, 0]);
            ex.writeUInt16LE(crc16(ex.subarray(0, 3)), 3);
            if (!sock.destroyed) sock.write(ex);
            return;
          }
          const out = Buffer.alloc(3 + values.length * 2 + 2);
          out[0] = unitId;
          out[1] = code;
          out[2] = values.length * 2;
          values.forEach((v, i) => out.writeUInt16BE(v, 3 + i * 2));
          out.writeUInt16LE(crc16(out.subarray(0, out.length - 2)), out.length - 2);
          if (!sock.destroyed) sock.write(out);
        });
      }
    });
  }

  /** Closes the port and drops every connection: the meter is gone until listen() again. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.inFlight = 0;
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    if (server instanceof ModbusRTU.ServerTCP) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return;
    }
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (server as Server).close(() => resolve()));
  }
}

/** Where a SunSpec device built by sunspecRegisters puts its map. */
export interface SunSpecLayout {
  /** Holding register of the "SunS" marker: 40000, 50000 or 0. */
  base: number;
  /** Length of the common model (ID 1): 66, or 65 on some Fronius firmware. */
  commonLength: number;
  /** Models between the common model and the fixture's (e.g. 101, an inverter). */
  before?: Array<{ id: number; length: number }>;
}

/**
 * The holding registers of a SunSpec device laid out as `layout` says, serving
 * the model of a fixture written for a header at `nominalHeader`: the marker,
 * the common model, the `before` models, the fixture's model (header and values
 * moved along) and the end marker. Also returns where that header landed and
 * the last register of the map.
 */
export function sunspecRegisters(fixture: Fixture, nominalHeader: number, layout: SunSpecLayout): { registers: Record<number, number>; header: number; last: number } {
  const { base, commonLength } = layout;
  const registers: Record<number, number> = { [base]: 0x5375, [base + 1]: 0x6e53, [base + 2]: 1, [base + 3]: commonLength };
  let header = base + 4 + commonLength;
  for (const m of layout.before ?? []) {
    Object.assign(registers, { [header]: m.id, [header + 1]: m.length });
    header += 2 + m.length;
  }
  for (const [addr, value] of Object.entries(fixture.registers.holding ?? {})) {
    if (Number(addr) >= nominalHeader) registers[Number(addr) - nominalHeader + header] = value;
  }
  const end = header + 2 + (registers[header + 1] ?? 0);
  Object.assign(registers, { [end]: 0xffff, [end + 1]: 0 });
  return { registers, header, last: end + 1 };
}

/** Modbus RTU CRC-16 (poly 0xA001, init 0xFFFF), sent low byte first. */
export function crc16(data: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** A port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
