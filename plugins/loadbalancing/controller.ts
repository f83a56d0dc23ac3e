import { sendErrorOf } from '../../core/ocpp/send-error.js';
import { errorMessage } from '../../core/errors.js';
import type { PluginContext } from '../../core/plugin.js';
import { allocate, VOLTS, type Demand, type Room } from './allocate.js';
import { walk, type CircuitConfig, type LoadBalancingConfig, type Phase } from './config.js';
import type { UsersApi } from '../users/api.js';
import type { LoadHistoryStore } from './history.js';
import type { LoadSettings } from './settings.js';
import type { ChargerState, ConnectorState, Wiring } from './state.js';
import type { CircuitView, LoadView } from './view.js';
import { failsafeProfile, sessionProfile } from './profiles.js';
import { computeRooms, drawOn, type MeterState } from './rooms.js';

/** A raise ramps a car that takes all it is offered by this much per sample. */
const RAMP_A = 2;
/** A car this far below its limit is taking less: the rest goes to the others. */
const SLACK_A = 2;
const RECOMPUTE_DELAY_MS = 300;
/** A lower limit at least this much below the current one is sent without waiting for minUpdateInterval. */
const SMALL_A = 0.5;
/** The composite schedule checks a charger's applied limit at most this often. */
const VERIFY_EVERY_MS = 10 * 60_000;
/** A charger both connects and boots: its failsafe is sent once for the two, not twice (its flash). */
const CONFIGURED_FRESH_MS = 10_000;
const ACTOR = { actor: 'plugin:loadbalancing' };

export type LoadBalancer = ReturnType<typeof createController>;

export function createController(ctx: PluginContext<LoadBalancingConfig>, settings: LoadSettings, history: LoadHistoryStore) {
  const cfg = ctx.config;
  const clock = ctx.core.clock;
  const chargers = new Map<string, ChargerState>();
  const connectors = new Map<string, ConnectorState>();
  const meters = new Map<string, MeterState>();
  let circuits = walk(settings.circuits());
  let lastRooms = new Map<string, Room>();
  let updatedAt: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | null = null;
  let again = false;
  let live = false;
  /** Circuits whose chargers' failsafe does not fit under the fuse, with why. */
  const circuitProblems = new Map<string, string>();

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

  /** Records a charger's problem (or that it is gone) and tells the bus, once per change. */
  function tell(chargerId: string, state: ChargerState, reason: ChargerState['reason'], problem: string | null) {
    if (state.problem === problem) return;
    state.problem = problem;
    state.reason = reason;
    if (problem) ctx.log.warn(`charger ${chargerId} ${problem}`);
    ctx.emit('loadbalancing.problem', { at: clock.iso(), kind: 'charger', chargerId, meterId: null, circuitId: null, reason, problem });
  }
  const staleMeters = new Set<string>();
  function meterTrust(meterId: string, fresh: boolean, circuitId: string) {
    if (fresh === !staleMeters.has(meterId)) return;
    if (fresh) staleMeters.delete(meterId);
    else staleMeters.add(meterId);
    const problem = fresh ? null : `circuit meter ${meterId} sent nothing for ${Math.round(cfg.meterStaleAfter / 1000)} s: circuit ${circuitId} is held at ${cfg.failsafeCurrent} A per charger`;
    if (problem) ctx.log.warn(problem);
    ctx.emit('loadbalancing.problem', { at: clock.iso(), kind: 'meter', chargerId: null, meterId, circuitId, reason: fresh ? null : 'meter-stale', problem });
  }

  /**
   * The config check counts a charger once; a TxDefaultProfile on connector 0 gives each of its connectors the failsafe.
   * Once the connectors are known, a circuit whose connectors at failsafe would overload its fuse is a problem.
   */
  function checkFailsafe() {
    const perCharger = new Map<string, number>();
    for (const c of connectors.values()) perCharger.set(c.chargerId, (perCharger.get(c.chargerId) ?? 0) + 1);
    for (const { circuit } of circuits) {
      const need = walk([circuit]).reduce((n, w) => n + w.circuit.chargers.reduce((m, e) =>
        m + (typeof e !== 'string' && e.connectorId !== undefined ? 1 : Math.max(1, perCharger.get(typeof e === 'string' ? e : e.id) ?? 1)), 0), 0);
      const amps = need * cfg.failsafeCurrent;
      const problem = amps > circuit.maxCurrent
        ? `circuit ${circuit.id}: ${need} connectors at failsafeCurrent ${cfg.failsafeCurrent} A may draw ${amps} A when the appliance is gone, more than its ${circuit.maxCurrent} A`
        : null;
      if ((circuitProblems.get(circuit.id) ?? null) === problem) continue;
      if (problem) { circuitProblems.set(circuit.id, problem); ctx.log.warn(problem); } else circuitProblems.delete(circuit.id);
      ctx.emit('loadbalancing.problem', { at: clock.iso(), kind: 'circuit', chargerId: null, meterId: null, circuitId: circuit.id, reason: problem ? 'failsafe-exceeds' : null, problem });
    }
  }

  /** Reads what the charger supports and sets its failsafe: what it keeps when the appliance is gone. */
  function configure(chargerId: string): Promise<void> {
    const state = chargers.get(chargerId) ?? { rateUnit: 'A', stackLevel: 1, smart: 'unknown', problem: null, reason: null, configuring: null, configuredAt: 0 };
    chargers.set(chargerId, state);
    if (!state.configuring && state.configuredAt && clock.nowMs() - state.configuredAt < CONFIGURED_FRESH_MS) return Promise.resolve();
    state.configuring ??= (async () => {
      const commands = ctx.core.chargers.commands;
      try {
        const settings = await commands.smartChargingSettings(chargerId, {}, ACTOR).catch(() => null);
        const units = settings?.units ?? ['A'];
        state.rateUnit = units.includes('A') ? 'A' : units.includes('W') ? 'W' : 'A';
        state.stackLevel = (settings?.maxStackLevel ?? 0) >= 1 ? 1 : 0;
        const reply = await commands.setChargingProfile(chargerId, failsafeProfile(cfg.failsafeCurrent, state.rateUnit, 3), ACTOR);
        state.configuredAt = clock.nowMs();
        if (reply.accepted) {
          state.smart = 'yes';
          if (state.reason !== 'ignores-limit') tell(chargerId, state, null, null);
        } else {
          state.smart = 'no';
          tell(chargerId, state, 'refused', `refused its failsafe charging profile (${reply.status}): counted at its full current`);
        }
      } catch (e) {
        const sent = sendErrorOf(e);
        const code = sent?.kind === 'callerror' ? sent.code : null;
        if (code === 'NotImplemented' || code === 'NotSupported') {
          state.configuredAt = clock.nowMs();
          state.smart = 'no';
          tell(chargerId, state, 'unsupported', `does not support Smart Charging (${code}): counted at its full current, the others share the rest`);
        } else {
          ctx.log.warn(`charger ${chargerId} could not be given its failsafe profile: ${errorMessage(e)}`);
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
    checkFailsafe();
    return c;
  }

  /** A card's priority: its own entry, else its group card's (users plugin), else 0. */
  async function priorityOf(idTag: string): Promise<number> {
    const priorities = settings.priorities();
    if (!priorities.length) return 0;
    const keys = [idTag.toLowerCase()];
    const parent = (await ctx.use<UsersApi>('users')?.findTag(idTag).catch(() => null))?.parentIdTag;
    if (parent) keys.push(parent.toLowerCase());
    return Math.max(0, ...priorities.filter((p) => p.idTags.some((t) => keys.includes(t.toLowerCase()))).map((p) => p.priority));
  }

  async function started(e: { chargerId: string; connectorId: number; transactionId: number; startedAt: string; idTag: string; userId: number | null; accepted: boolean }) {
    const c = connector(e.chargerId, e.connectorId);
    // A refused start draws nothing: the charger ends it.
    if (!c || !e.accepted) return;
    const priority = await priorityOf(e.idTag);
    Object.assign(c, {
      tx: { id: e.transactionId, startedAt: e.startedAt, idTag: e.idTag, userId: e.userId, priority, boosted: false }, wish: c.wiring.maxCurrent, offered: null, validTo: 0, sentAt: 0,
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

  const steerable = (chargerId: string) => chargers.get(chargerId)?.smart === 'yes';
  function rooms(): Map<string, Room> {
    const out = computeRooms({ cfg, circuits, connectors: connectors.values(), meters, online: (id) => ctx.core.chargers.isOnline(id), steerable, now: clock.nowMs() });
    for (const [meterId, { fresh, circuitId }] of out.meterFresh) meterTrust(meterId, fresh, circuitId);
    return out.rooms;
  }

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
      const reply = await ctx.core.chargers.commands.setChargingProfile(c.chargerId,
        sessionProfile(c.connectorId, c.tx!.id, amps, ch.rateUnit, ch.stackLevel, c.carPhases.length, now, cfg.profileValidity), ACTOR);
      if (!reply.accepted) throw new Error(`answered ${reply.status}`);
      const was = c.offered;
      Object.assign(c, { offered: amps, sentAt: now, validTo: now + cfg.profileValidity });
      if (amps > 0 && !was) Object.assign(c, { turnStartedAt: now, pausedSince: null });
      void verify(c, amps);
      if (amps === 0 && (was === null || was > 0)) Object.assign(c, { pausedSince: now, turnStartedAt: null });
    } catch (e) {
      ctx.log.warn(`charger ${c.chargerId} connector ${c.connectorId}: limit ${amps} A not applied: ${errorMessage(e)}`);
    }
  }

  const verifiedAt = new Map<string, number>();
  /**
   * Asks the charger what it applies now (its composite schedule) and flags one that applies more than it was given.
   * Many chargers do not implement it: that is not a problem, the measured draw is checked too.
   */
  async function verify(c: ConnectorState, amps: number): Promise<void> {
    const now = clock.nowMs();
    if (now - (verifiedAt.get(c.chargerId) ?? -Infinity) < VERIFY_EVERY_MS) return;
    verifiedAt.set(c.chargerId, now);
    const ch = chargers.get(c.chargerId)!;
    try {
      const { schedule } = await ctx.core.chargers.commands.getCompositeSchedule(c.chargerId, { connectorId: c.connectorId, durationS: 60, unit: ch.rateUnit }, ACTOR);
      const first = schedule?.periods[0];
      if (!schedule || !first) return;
      const applied = schedule.unit === 'W' ? first.limit / (VOLTS * c.carPhases.length) : first.limit;
      if (applied > amps + 1 && ch.smart === 'yes') {
        ch.smart = 'no';
        tell(c.chargerId, ch, 'ignores-limit', `ignores its charging limit: applies ${applied.toFixed(1)} A on connector ${c.connectorId} though limited to ${amps} A (composite schedule); counted at its full current`);
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
        .catch((e: unknown) => ctx.log.error(`load balancing failed: ${errorMessage(e)}`))
        .finally(() => {
          running = null;
          if (again) { again = false; soon(0); }
        });
    }, delayMs);
  }

  /** Keeps a point of each circuit and charging connector for the load chart. */
  function record() {
    if (!history.due()) return;
    const now = clock.nowMs();
    const circuitPoints = circuits.map(({ circuit }) => {
      const allocated: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
      const measured: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
      let any = false;
      for (const c of connectors.values()) {
        if (!c.tx || !c.wiring.circuitPath.includes(circuit.id)) continue;
        for (const p of c.carPhases) {
          allocated[p] += c.offered ?? 0;
          if (c.measured) { any = true; measured[p] += drawOn(c, p); }
        }
      }
      const m = circuit.meter ? meters.get(circuit.meter) : undefined;
      const metered = m && now - m.at <= cfg.meterStaleAfter ? Math.max(...m.currentA) : null;
      return [circuit.id, {
        at: now, limit: circuit.maxCurrent, allocated: Math.max(...Object.values(allocated)),
        measured: metered ?? (any ? Math.max(...Object.values(measured)) : null),
      }] as const;
    });
    const connectorPoints = [...connectors].filter(([k, c]) => c.tx || history.has(k))
      .map(([k, c]) => [k, { at: now, limit: c.tx ? c.offered : null, measured: c.tx && c.measured ? Math.max(...c.measured) : null }] as const);
    history.add(circuitPoints.map(([id, p]) => [id, p]), connectorPoints.map(([k, p]) => [k, p]));
  }

  return {
    record,
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
    /** A charger went away: its failsafe is sent again when it comes back. */
    disconnected(chargerId: string) {
      const state = chargers.get(chargerId);
      if (state) state.configuredAt = 0;
      soon(0);
    },
    /** A connector reported its status: it is listed on its circuit from now on, even before its first session. */
    learn(chargerId: string, connectorId: number) { if (connectorId >= 1) connector(chargerId, connectorId); },
    /** An installer changed a circuit's limits: the tree in force is read again. */
    limitsChanged() { circuits = walk(settings.circuits()); checkFailsafe(); soon(0); },
    /** An installer changed who is served first: running sessions are ranked again. */
    async prioritiesChanged() {
      for (const c of connectors.values()) if (c.tx) c.tx.priority = await priorityOf(c.tx.idTag);
      soon(0);
    },
    /** Connectors the charger reported before, and open sessions, after a restart: they get their shares again. */
    async start() {
      live = true;
      for (const k of await ctx.core.chargers.connectors()) if (managed(k.chargerId)) connector(k.chargerId, k.connectorId);
      for (const tx of await ctx.core.transactions.open()) {
        if (tx.startStatus !== 'Accepted' || !managed(tx.chargerId)) continue;
        await started({ ...tx, transactionId: tx.id, accepted: true });
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
        const drawn: Record<Phase, number> = { L1: 0, L2: 0, L3: 0 };
        let reported = false;
        for (const c of connectors.values()) {
          if (!c.tx || !c.wiring.circuitPath.includes(circuit.id)) continue;
          for (const p of c.carPhases) {
            if (c.offered) allocated[p] += c.offered;
            if (c.measured) { reported = true; drawn[p] += drawOn(c, p); }
          }
        }
        const fresh = m && now - m.at <= cfg.meterStaleAfter;
        const configured = settings.configured(circuit.id)!;
        const listed = circuit.chargers.map((e) => (typeof e === 'string' ? e : e.id));
        return {
          id: circuit.id, maxCurrent: circuit.maxCurrent, maxPower: circuit.maxPower ?? null, phases: circuit.phases,
          configured: { maxCurrent: configured.maxCurrent, maxPower: configured.maxPower ?? null }, changed: settings.change(circuit.id),
          unseen: [...new Set(listed)].filter((id) => !below.some((c) => c.chargerId === id)),
          problem: circuitProblems.get(circuit.id) ?? null,
          room: lastRooms.get(circuit.id)?.amps ?? null, allocated,
          measured: fresh ? { L1: m.currentA[0] ?? 0, L2: m.currentA[1] ?? 0, L3: m.currentA[2] ?? 0 } : reported ? drawn : null,
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
        circuits: settings.circuits().map(node),
        priorities: settings.priorities(), prioritiesChanged: settings.prioritiesChange(), boostPriority: cfg.boostPriority,
        chargers: [...chargers].map(([id, s]) => ({ id, smartCharging: s.smart, rateUnit: s.rateUnit, problem: s.problem })),
      };
    },
  };
}
