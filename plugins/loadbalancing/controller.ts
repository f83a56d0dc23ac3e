import { ChargerCallError } from '../../core/ocpp/send-error.js';
import type { PluginContext } from '../../core/plugin.js';
import { allocate, PHASES, VOLTS, type Demand, type Room } from './allocate.js';
import { walk, type CircuitConfig, type LoadBalancingConfig, type Phase } from './config.js';
import type { UsersApi } from '../users/api.js';
import type { CircuitView, LoadHistory, LoadView } from './view.js';
import { failsafeProfile, sessionProfile, type RateUnit } from './profiles.js';

/** How a connector is fed: its circuit path and the site phases behind its L1, L2, L3. */
interface Wiring { circuitPath: string[]; phases: Phase[]; maxCurrent: number }

interface ChargerState {
  rateUnit: RateUnit;
  stackLevel: number;
  /** Smart Charging: unknown until its failsafe profile was answered. */
  smart: 'unknown' | 'yes' | 'no';
  problem: string | null;
  reason: 'unsupported' | 'refused' | 'ignores-limit' | null;
  configuring: Promise<void> | null;
}

export interface ConnectorState {
  chargerId: string;
  connectorId: number;
  wiring: Wiring;
  tx: { id: number; startedAt: string; userId: number | null; priority: number; boosted: boolean } | null;
  /** Latest current per charger phase (L1..L3 of the charger), A. */
  measured: number[] | null;
  /** Site phases the car draws from, as last measured. */
  carPhases: Phase[];
  wish: number;
  /** The limit the charger accepted, A per phase; null before the first. */
  offered: number | null;
  sentAt: number;
  validTo: number;
  turnStartedAt: number | null;
  pausedSince: number | null;
  /** Samples in a row drawing well above the limit. */
  over: number;
}

interface MeterState { currentA: number[]; powerW: number | null; at: number }

/** A raise ramps a car that takes all it is offered by this much per sample. */
const RAMP_A = 2;
/** A car this far below its limit is taking less: the rest goes to the others. */
const SLACK_A = 2;
const RECOMPUTE_DELAY_MS = 300;
/** A lower limit at least this much below the current one is sent without waiting for minUpdateInterval. */
const SMALL_A = 0.5;
/** GetCompositeSchedule checks a charger's applied limit at most this often. */
const VERIFY_EVERY_MS = 10 * 60_000;
/** The load chart's history: a point per circuit and per charging connector every 30 s, for 6 hours (in memory). */
const HISTORY_EVERY_MS = 30_000;
const HISTORY_POINTS = 720;

/** One point of a circuit's history: the most loaded phase, A. */
export interface CircuitPoint { at: number; limit: number; allocated: number; measured: number | null }
export interface ConnectorPoint { at: number; limit: number | null; measured: number | null }

export type LoadBalancer = ReturnType<typeof createController>;

export function createController(ctx: PluginContext<LoadBalancingConfig>) {
  const cfg = ctx.config;
  const clock = ctx.core.clock;
  const chargers = new Map<string, ChargerState>();
  const connectors = new Map<string, ConnectorState>();
  const meters = new Map<string, MeterState>();
  const circuits = walk(cfg.circuits);
  let lastRooms = new Map<string, Room>();
  let updatedAt: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let live = false;
  const circuitHistory = new Map<string, CircuitPoint[]>();
  const connectorHistory = new Map<string, ConnectorPoint[]>();
  let lastPointAt = 0;

  /** Where a charger's connector hangs in the tree, or null when no circuit lists it. */
  function wiringOf(chargerId: string, connectorId: number): Wiring | null {
    for (const { circuit, path } of circuits) {
      for (const entry of circuit.chargers) {
        const e = typeof entry === 'string' ? { id: entry, phases: 3 as const } : entry;
        if (e.id !== chargerId || ('connectorId' in e && e.connectorId !== undefined && e.connectorId !== connectorId)) continue;
        const phases: Phase[] = circuit.phases === 1 ? ['L1'] : ('phaseOrder' in e && e.phaseOrder) ? e.phaseOrder : e.phases === 1 ? ['L1'] : ['L1', 'L2', 'L3'];
        const maxCurrent = ('maxCurrent' in e && e.maxCurrent) || cfg.chargerMaxCurrent;
        return { circuitPath: path.map((c) => c.id), phases, maxCurrent };
      }
    }
    return null;
  }
  const managed = (chargerId: string) => circuits.some(({ circuit }) => circuit.chargers.some((e) => (typeof e === 'string' ? e : e.id) === chargerId));
  const key = (chargerId: string, connectorId: number) => `${chargerId}:${connectorId}`;
  const err = (e: unknown) => (e instanceof Error ? e.message : String(e));

  /** Records a charger's problem (or that it is gone) and tells the bus, once per change. */
  function tell(chargerId: string, state: ChargerState, reason: ChargerState['reason'], problem: string | null) {
    if (state.problem === problem) return;
    state.problem = problem;
    state.reason = reason;
    if (problem) ctx.log.warn(`charger ${chargerId} ${problem}`);
    ctx.emit('loadbalancing.problem', { at: clock.iso(), kind: 'charger', chargerId, meterId: null, reason, problem });
  }
  const staleMeters = new Set<string>();
  function meterTrust(meterId: string, fresh: boolean, circuitId: string) {
    if (fresh === !staleMeters.has(meterId)) return;
    if (fresh) staleMeters.delete(meterId);
    else staleMeters.add(meterId);
    const problem = fresh ? null : `circuit meter ${meterId} sent nothing for ${Math.round(cfg.meterStaleAfter / 1000)} s: circuit ${circuitId} is held at ${cfg.failsafeCurrent} A per charger`;
    if (problem) ctx.log.warn(problem);
    ctx.emit('loadbalancing.problem', { at: clock.iso(), kind: 'meter', chargerId: null, meterId, reason: fresh ? null : 'meter-stale', problem });
  }

  /** Reads what the charger supports and sets its failsafe: what it keeps when the appliance is gone. */
  function configure(chargerId: string): Promise<void> {
    const state = chargers.get(chargerId) ?? { rateUnit: 'A', stackLevel: 1, smart: 'unknown', problem: null, reason: null, configuring: null };
    chargers.set(chargerId, state);
    state.configuring ??= (async () => {
      const send = (action: string, payload: unknown) => ctx.core.chargers.send(chargerId, action, payload, { actor: 'plugin:loadbalancing' });
      try {
        const conf = await send('GetConfiguration', { key: ['ChargingScheduleAllowedChargingRateUnit', 'ChargeProfileMaxStackLevel'] })
          .catch(() => null) as { configurationKey?: Array<{ key: string; value?: string }> } | null;
        const value = (k: string) => conf?.configurationKey?.find((c) => c.key === k)?.value;
        const units = (value('ChargingScheduleAllowedChargingRateUnit') ?? 'Current').split(',').map((u) => u.trim());
        state.rateUnit = units.includes('Current') ? 'A' : units.includes('Power') ? 'W' : 'A';
        const maxStack = Number(value('ChargeProfileMaxStackLevel'));
        state.stackLevel = Number.isFinite(maxStack) && maxStack >= 1 ? 1 : 0;
        const reply = await send('SetChargingProfile', failsafeProfile(cfg.failsafeCurrent, state.rateUnit, 3)) as { status?: string };
        if (reply.status === 'Accepted') {
          state.smart = 'yes';
          if (state.reason !== 'ignores-limit') tell(chargerId, state, null, null);
        } else {
          state.smart = 'no';
          tell(chargerId, state, 'refused', `refused its failsafe charging profile (${reply.status ?? 'no status'}): counted at its full current`);
        }
      } catch (e) {
        const code = e instanceof ChargerCallError ? e.code : null;
        if (code === 'NotImplemented' || code === 'NotSupported') {
          state.smart = 'no';
          tell(chargerId, state, 'unsupported', `does not support Smart Charging (${code}): counted at its full current, the others share the rest`);
        } else {
          ctx.log.warn(`charger ${chargerId} could not be given its failsafe profile: ${err(e)}`);
        }
      } finally {
        state.configuring = null;
      }
      soon(0);
    })();
    return state.configuring;
  }

  function connector(chargerId: string, connectorId: number): ConnectorState | null {
    const k = key(chargerId, connectorId);
    let c = connectors.get(k);
    if (c) return c;
    const wiring = wiringOf(chargerId, connectorId);
    if (!wiring) return null;
    c = {
      chargerId, connectorId, wiring, tx: null, measured: null, carPhases: wiring.phases, wish: wiring.maxCurrent,
      offered: null, sentAt: 0, validTo: 0, turnStartedAt: null, pausedSince: null, over: 0,
    };
    connectors.set(k, c);
    return c;
  }

  /** A card's priority: its own entry, else its group card's (users plugin), else 0. */
  async function priorityOf(idTag: string): Promise<number> {
    if (!cfg.priorities.length) return 0;
    const keys = [idTag.toLowerCase()];
    const parent = (await ctx.use<UsersApi>('users')?.findTag(idTag).catch(() => null))?.parentIdTag;
    if (parent) keys.push(parent.toLowerCase());
    return Math.max(0, ...cfg.priorities.filter((p) => p.idTags.some((t) => keys.includes(t.toLowerCase()))).map((p) => p.priority));
  }

  async function started(e: { chargerId: string; connectorId: number; transactionId: number; startedAt: string; idTag: string; userId: number | null; accepted: boolean }) {
    const c = connector(e.chargerId, e.connectorId);
    // A refused start draws nothing: the charger ends it.
    if (!c || !e.accepted) return;
    const priority = await priorityOf(e.idTag);
    Object.assign(c, {
      tx: { id: e.transactionId, startedAt: e.startedAt, userId: e.userId, priority, boosted: false }, wish: c.wiring.maxCurrent, offered: null, validTo: 0, sentAt: 0,
      carPhases: c.wiring.phases, turnStartedAt: null, pausedSince: clock.nowMs(), over: 0, measured: null,
    });
    soon(0);
  }

  function stopped(e: { chargerId: string; connectorId: number; transactionId: number }) {
    const c = connectors.get(key(e.chargerId, e.connectorId));
    if (!c || c.tx?.id !== e.transactionId) return;
    Object.assign(c, { tx: null, offered: null, validTo: 0, turnStartedAt: null, pausedSince: null, measured: null });
    soon(0);
  }

  /** The charger's own meter: what the car takes, on which phases; a car that takes less gives the rest back. */
  function sampled(chargerId: string, connectorId: number, currentA: number[]) {
    const c = connectors.get(key(chargerId, connectorId));
    if (!c?.tx) return;
    c.measured = currentA;
    const draw = Math.max(0, ...currentA);
    const active = c.wiring.phases.filter((_, i) => (currentA.length === 1 ? true : (currentA[i] ?? 0) > 1));
    if (draw > 2 && active.length) c.carPhases = active;
    if (c.offered !== null && c.offered > 0) {
      if (draw > c.offered + SLACK_A && clock.nowMs() - c.sentAt > cfg.minUpdateInterval) c.over++;
      else c.over = 0;
      if (c.over >= 2) {
        const ch = chargers.get(chargerId);
        if (ch && ch.smart === 'yes') {
          ch.smart = 'no';
          tell(chargerId, ch, 'ignores-limit', `ignores its charging limit: draws ${draw.toFixed(1)} A on connector ${connectorId} though limited to ${c.offered} A; counted at its full current`);
        }
      }
      if (draw < c.offered - SLACK_A) c.wish = Math.max(cfg.minCurrent, draw + 1);
      else c.wish = Math.min(c.wiring.maxCurrent, Math.max(c.wish, c.offered + RAMP_A));
    }
    soon(RECOMPUTE_DELAY_MS);
  }

  function metered(meterId: string, currentA: number[] | undefined, powerW: number | undefined) {
    if (!currentA || !circuits.some(({ circuit }) => circuit.meter === meterId)) return;
    meters.set(meterId, { currentA, powerW: powerW ?? null, at: clock.nowMs() });
    soon(RECOMPUTE_DELAY_MS);
  }

  /** The room each circuit has for the managed connectors, per phase: its limit, less the building's other load and the loads it cannot steer. */
  function rooms(): Map<string, Room> {
    const now = clock.nowMs();
    const fixed = new Map<string, Record<Phase, number>>(circuits.map(({ circuit }) => [circuit.id, { L1: 0, L2: 0, L3: 0 }]));
    const drawn = new Map<string, Record<Phase, number>>(circuits.map(({ circuit }) => [circuit.id, { L1: 0, L2: 0, L3: 0 }]));
    const drawnW = new Map<string, number>(circuits.map(({ circuit }) => [circuit.id, 0]));
    const steered = new Map<string, number>(circuits.map(({ circuit }) => [circuit.id, 0]));
    for (const c of connectors.values()) {
      if (!c.tx) continue;
      const ch = chargers.get(c.chargerId);
      const online = ctx.core.chargers.isOnline(c.chargerId);
      // A charger that cannot be steered may draw its full current; one that went offline keeps its last limit until it expires.
      const reserve = !online ? (c.validTo > now ? Math.max(c.offered ?? 0, cfg.failsafeCurrent) : cfg.failsafeCurrent)
        : ch?.smart !== 'yes' ? c.wiring.maxCurrent : null;
      for (const p of c.carPhases) {
        const draw = c.measured ? (c.measured.length === 1 ? c.measured[0]! : c.measured[c.wiring.phases.indexOf(p)] ?? 0) : 0;
        for (const id of c.wiring.circuitPath) {
          drawn.get(id)![p] += draw;
          drawnW.set(id, drawnW.get(id)! + draw * VOLTS);
          if (reserve !== null) fixed.get(id)![p] += reserve;
        }
      }
      if (reserve === null) for (const id of c.wiring.circuitPath) steered.set(id, steered.get(id)! + 1);
    }
    const out = new Map<string, Room>();
    for (const { circuit } of circuits) {
      const amps: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
      const onCircuit = circuit.phases === 1 ? ['L1'] : PHASES;
      const m = circuit.meter ? meters.get(circuit.meter) : undefined;
      const fresh = m && now - m.at <= cfg.meterStaleAfter;
      if (circuit.meter) meterTrust(circuit.meter, Boolean(fresh), circuit.id);
      for (const p of PHASES) {
        if (!onCircuit.includes(p)) continue;
        let limit = circuit.maxCurrent;
        if (circuit.meter) {
          if (fresh) {
            // The rest of the building: what the meter sees minus what the chargers below draw.
            const other = Math.max(0, (m.currentA[PHASES.indexOf(p)] ?? 0) - drawn.get(circuit.id)![p]);
            limit = circuit.maxCurrent - other;
          } else {
            limit = Math.min(circuit.maxCurrent, cfg.failsafeCurrent * chargersBelow(circuit));
          }
        }
        amps[p] = Math.max(0, limit - fixed.get(circuit.id)![p]);
      }
      if (circuit.solar !== 'off') {
        // What the chargers may take from the sun: what they draw now plus what the site still exports (negative grid power).
        const surplusW = fresh && m.powerW !== null ? drawnW.get(circuit.id)! - m.powerW : 0;
        const perPhase = Math.max(0, surplusW) / (VOLTS * onCircuit.length);
        const floor = circuit.solar === 'min+surplus' ? cfg.minCurrent * steered.get(circuit.id)! : 0;
        for (const p of onCircuit as Phase[]) amps[p] = Math.min(amps[p], Math.max(perPhase, floor));
      }
      out.set(circuit.id, { id: circuit.id, amps, watts: circuit.maxPower ?? null });
    }
    return out;
  }
  const chargersBelow = (circuit: CircuitConfig) => walk([circuit]).reduce((n, w) => n + w.circuit.chargers.length, 0);

  /** Turn order when there is not enough for all: cars within their slot, then the longest waiting, then those past their slot. */
  function rank(c: ConnectorState, now: number): number {
    const GROUP = 1e13;
    if (c.offered && c.turnStartedAt !== null) {
      // Past its slot, the car that has charged longest yields first.
      return now - c.turnStartedAt < cfg.rotationSlot ? c.turnStartedAt : 3 * GROUP - c.turnStartedAt;
    }
    return GROUP + (c.pausedSince ?? now);
  }

  async function recompute(): Promise<void> {
    const now = clock.nowMs();
    const room = rooms();
    lastRooms = room;
    const steer = [...connectors.values()].filter((c) => c.tx && ctx.core.chargers.isOnline(c.chargerId) && chargers.get(c.chargerId)?.smart === 'yes');
    const demands: Demand[] = steer.map((c) => ({
      key: key(c.chargerId, c.connectorId), path: c.wiring.circuitPath, phases: c.carPhases, wish: c.wish,
      priority: c.tx!.boosted ? cfg.boostPriority : c.tx!.priority, rank: rank(c, now),
    }));
    const shares = allocate([...room.values()], demands, cfg.minCurrent);
    updatedAt = new Date(now).toISOString();
    const lower: Array<[ConnectorState, number]> = [];
    const raise: Array<[ConnectorState, number]> = [];
    for (const c of steer) {
      const share = shares.get(key(c.chargerId, c.connectorId)) ?? 0;
      const expiring = c.validTo - now < cfg.profileValidity / 3;
      const due = now - c.sentAt >= cfg.minUpdateInterval;
      // Lowering by half an amp or more goes at once (the fuse); a smaller trim, like a raise, waits its turn (the charger's flash).
      if (c.offered === null || share <= c.offered - SMALL_A || expiring || (share < c.offered && due)) lower.push([c, share]);
      else if (share >= c.offered + cfg.hysteresis && due) raise.push([c, share]);
    }
    // Lowered limits go first, so the circuit is never over while some rise.
    await Promise.all(lower.map(([c, a]) => apply(c, a)));
    await Promise.all(raise.map(([c, a]) => apply(c, a)));
  }

  async function apply(c: ConnectorState, amps: number): Promise<void> {
    const ch = chargers.get(c.chargerId)!;
    const now = clock.nowMs();
    try {
      const reply = await ctx.core.chargers.send(c.chargerId, 'SetChargingProfile',
        sessionProfile(c.connectorId, c.tx!.id, amps, ch.rateUnit, ch.stackLevel, c.carPhases.length, now, cfg.profileValidity),
        { actor: 'plugin:loadbalancing' }) as { status?: string };
      if (reply.status !== 'Accepted') throw new Error(`answered ${reply.status ?? 'no status'}`);
      const was = c.offered;
      Object.assign(c, { offered: amps, sentAt: now, validTo: now + cfg.profileValidity });
      if (amps > 0 && !was) Object.assign(c, { turnStartedAt: now, pausedSince: null });
      void verify(c, amps);
      if (amps === 0 && (was === null || was > 0)) Object.assign(c, { pausedSince: now, turnStartedAt: null });
    } catch (e) {
      ctx.log.warn(`charger ${c.chargerId} connector ${c.connectorId}: limit ${amps} A not applied: ${err(e)}`);
    }
  }

  const verifiedAt = new Map<string, number>();
  /**
   * Asks the charger what it applies now (GetCompositeSchedule) and flags one that applies more than it was given.
   * Many chargers do not implement it: that is not a problem, the measured draw is checked too.
   */
  async function verify(c: ConnectorState, amps: number): Promise<void> {
    const now = clock.nowMs();
    if (now - (verifiedAt.get(c.chargerId) ?? -Infinity) < VERIFY_EVERY_MS) return;
    verifiedAt.set(c.chargerId, now);
    const ch = chargers.get(c.chargerId)!;
    try {
      const reply = await ctx.core.chargers.send(c.chargerId, 'GetCompositeSchedule',
        { connectorId: c.connectorId, duration: 60, chargingRateUnit: ch.rateUnit }, { actor: 'plugin:loadbalancing' }) as {
        status?: string; chargingSchedule?: { chargingRateUnit?: string; chargingSchedulePeriod?: Array<{ startPeriod: number; limit: number }> };
      };
      const first = reply.chargingSchedule?.chargingSchedulePeriod?.[0];
      if (reply.status !== 'Accepted' || !first) return;
      const applied = reply.chargingSchedule?.chargingRateUnit === 'W' ? first.limit / (VOLTS * c.carPhases.length) : first.limit;
      if (applied > amps + 1 && ch.smart === 'yes') {
        ch.smart = 'no';
        tell(c.chargerId, ch, 'ignores-limit', `ignores its charging limit: applies ${applied.toFixed(1)} A on connector ${c.connectorId} though limited to ${amps} A (GetCompositeSchedule); counted at its full current`);
        soon(0);
      }
    } catch {
      // NotImplemented, offline, timeout: the measured draw still tells.
    }
  }

  /** Recomputes after delayMs; calls in between fold into one run, and runs never overlap. */
  function soon(delayMs: number) {
    if (!live) return;
    if (running) { again = true; return; }
    if (timer && delayMs > 0) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      running = recompute()
        .catch((e: unknown) => ctx.log.error(`load balancing failed: ${err(e)}`))
        .finally(() => {
          running = null;
          if (again) { again = false; soon(0); }
        });
    }, delayMs);
  }

  const push = <T>(map: Map<string, T[]>, k: string, point: T) => {
    const list = map.get(k) ?? [];
    list.push(point);
    if (list.length > HISTORY_POINTS) list.splice(0, list.length - HISTORY_POINTS);
    map.set(k, list);
  };

  /** Keeps a point of each circuit and charging connector for the load chart. */
  function record() {
    const now = clock.nowMs();
    if (now - lastPointAt < HISTORY_EVERY_MS) return;
    lastPointAt = now;
    for (const { circuit } of circuits) {
      const allocated: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
      const measured: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
      let any = false;
      for (const c of connectors.values()) {
        if (!c.tx || !c.wiring.circuitPath.includes(circuit.id)) continue;
        for (const p of c.carPhases) {
          allocated[p] += c.offered ?? 0;
          if (c.measured) { any = true; measured[p] += c.measured.length === 1 ? c.measured[0]! : c.measured[c.wiring.phases.indexOf(p)] ?? 0; }
        }
      }
      const m = circuit.meter ? meters.get(circuit.meter) : undefined;
      const metered = m && now - m.at <= cfg.meterStaleAfter ? Math.max(...m.currentA) : null;
      push(circuitHistory, circuit.id, {
        at: now, limit: circuit.maxCurrent, allocated: Math.max(...Object.values(allocated)),
        measured: metered ?? (any ? Math.max(...Object.values(measured)) : null),
      });
    }
    for (const [k, c] of connectors) {
      if (!c.tx && !connectorHistory.has(k)) continue;
      push(connectorHistory, k, { at: now, limit: c.tx ? c.offered : null, measured: c.tx && c.measured ? Math.max(...c.measured) : null });
    }
  }

  return {
    record,
    /** The load chart's points since `sinceMs`. */
    history(sinceMs: number): LoadHistory {
      const since = <T extends { at: number }>(list: T[]) => list.filter((p) => p.at >= sinceMs).map((p) => ({ ...p, at: new Date(p.at).toISOString() }));
      return {
        every: HISTORY_EVERY_MS / 1000,
        circuits: Object.fromEntries([...circuitHistory].map(([id, list]) => [id, since(list)])),
        connectors: Object.fromEntries([...connectorHistory].map(([id, list]) => [id, since(list)]).filter(([, l]) => (l as unknown[]).length)),
      };
    },
    managed, configure, started, stopped, sampled, metered,
    meterLost(meterId: string) { if (meters.delete(meterId)) soon(0); },
    /** The connector's running session under load management, or null. */
    session(chargerId: string, connectorId: number): ConnectorState | null {
      const c = connectors.get(key(chargerId, connectorId));
      return c?.tx ? c : null;
    },
    /** Serves this session first until it ends. */
    boost(chargerId: string, connectorId: number): void {
      const c = connectors.get(key(chargerId, connectorId));
      if (!c?.tx) return;
      c.tx.boosted = true;
      soon(0);
    },
    tick: () => soon(0),
    /** Open sessions on managed chargers, after a restart: they get their shares again. */
    async start() {
      live = true;
      const open = await ctx.db('transactions').whereNull('stopped_at').andWhere({ start_status: 'Accepted' })
        .select('id', 'charger_id', 'connector_id', 'id_tag', 'user_id', 'started_at') as Array<Record<string, unknown>>;
      for (const r of open) {
        if (!managed(r.charger_id as string)) continue;
        await started({
          chargerId: r.charger_id as string, connectorId: Number(r.connector_id), transactionId: Number(r.id), startedAt: r.started_at as string,
          idTag: r.id_tag as string, userId: r.user_id === null ? null : Number(r.user_id), accepted: true,
        });
      }
    },
    async stop() {
      live = false;
      clearTimeout(timer);
      await running;
    },
    /** Waits for a pending recompute (tests). */
    settled: async () => { while (timer || running) await (running ?? new Promise((r) => setTimeout(r, 20))); },
    view(): LoadView {
      const now = clock.nowMs();
      const node = (circuit: CircuitConfig): CircuitView => {
        const m = circuit.meter ? meters.get(circuit.meter) : undefined;
        const below = [...connectors.values()].filter((c) => c.wiring.circuitPath.at(-1) === circuit.id);
        const allocated: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
        for (const c of connectors.values()) {
          if (c.tx && c.offered && c.wiring.circuitPath.includes(circuit.id)) for (const p of c.carPhases) allocated[p] += c.offered;
        }
        return {
          id: circuit.id, maxCurrent: circuit.maxCurrent, maxPower: circuit.maxPower ?? null, phases: circuit.phases,
          room: lastRooms.get(circuit.id)?.amps ?? null, allocated,
          meter: circuit.meter ? { id: circuit.meter, currentA: m?.currentA ?? null, stale: !m || now - m.at > cfg.meterStaleAfter } : null,
          connectors: below.map((c) => ({
            chargerId: c.chargerId, connectorId: c.connectorId, phases: c.carPhases, transactionId: c.tx?.id ?? null,
            priority: c.tx ? (c.tx.boosted ? cfg.boostPriority : c.tx.priority) : null, boosted: c.tx?.boosted ?? false,
            limit: c.tx ? c.offered : null, measured: c.measured, validTo: c.validTo ? new Date(c.validTo).toISOString() : null,
            state: !c.tx ? 'idle' : !ctx.core.chargers.isOnline(c.chargerId) ? 'offline' : chargers.get(c.chargerId)?.smart !== 'yes' ? 'unmanaged'
              : c.offered === null ? 'waiting' : c.offered === 0 ? 'paused' : 'charging',
          })),
          circuits: circuit.circuits.map(node),
        };
      };
      return {
        updatedAt, minCurrent: cfg.minCurrent, failsafeCurrent: cfg.failsafeCurrent,
        circuits: cfg.circuits.map(node),
        chargers: [...chargers].map(([id, s]) => ({ id, smartCharging: s.smart, rateUnit: s.rateUnit, problem: s.problem })),
      };
    },
  };
}
