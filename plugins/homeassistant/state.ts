import type { Knex } from 'knex';
import type { EventMap, MeterSample } from '../../core/events.js';
import { ACTIVE_POWER } from '../../core/readings.js';
import type { CoreServices, ChargerView } from '../../core/services.js';
import type { Logger } from '../../core/types.js';
import { slugOf } from './topics.js';

/** Chargers announced at most: a site accepting unknown chargers must not fill HA with devices. */
export const MAX_CHARGERS = 500;
/** Connector ids announced: 1 to this. */
export const MAX_CONNECTOR = 32;

export interface SessionModel { transactionId: number; startedAt: string; meterStartWh: number; lastWh: number | null }

export interface ConnectorModel {
  status: string;
  /** W, from the latest car-side reading; 0 once the session stops. */
  powerW: number | null;
  /** Wh, the connector's energy register. */
  energyWh: number | null;
  /** Charger time of the reading powerW and energyWh come from: an older one (sent late) changes nothing. */
  sampleAt: string | null;
  session: SessionModel | null;
}

/** The latest error code a charger reported on any connector, kept across restarts. */
export interface ErrorModel { error: string; connectorId: number; info: string | null; vendorErrorCode: string | null; at: string }

export interface ChargerModel {
  id: string;
  slug: string;
  name: string | null;
  vendor: string | null;
  model: string | null;
  firmwareVersion: string | null;
  online: boolean;
  error: ErrorModel | null;
  connectors: Map<number, ConnectorModel>;
}

/** What changed: the discovery messages (device info, connectors), the charger's state, its error, or one connector. */
export interface Change { config?: boolean; charger?: boolean; error?: boolean; connector?: number }

const ERRORS = 'homeassistant_errors';
const DEVICES = 'homeassistant_devices';
const bounded = (s: string | null | undefined, max = 100) => (s == null ? null : s.slice(0, max));

/**
 * The chargers as HA sees them, kept from bus events and loaded from the
 * core at start and for a charger first heard of later. Only approved
 * chargers are shown: a pending one is not part of the network yet.
 */
export function createModel(db: Knex, core: CoreServices, log: Logger, notify: (c: ChargerModel, change: Change) => void) {
  const chargers = new Map<string, ChargerModel>();
  const bySlug = new Map<string, string>();
  const loading = new Map<string, Promise<ChargerModel | null>>();
  /** Slugs from earlier runs, so a charger keeps its HA entities whatever else appeared since. */
  let known = new Map<string, string>();

  const assignSlug = (id: string): string | null => {
    const candidates = [known.get(id), slugOf(id), slugOf(id, true)];
    for (const s of candidates) {
      if (!s) continue;
      const owner = bySlug.get(s) ?? [...known].find(([cid, ks]) => ks === s && cid !== id)?.[0];
      if (owner === undefined || owner === id) return s;
    }
    return null;
  };

  const connectorFrom = async (chargerId: string, connectorId: number, status: string): Promise<ConnectorModel> => {
    const c: ConnectorModel = { status, powerW: null, energyWh: null, sampleAt: null, session: null };
    const latest = await core.transactions.latestOn(chargerId, connectorId);
    if (!latest) return c;
    if (latest.stoppedAt === null && latest.startStatus === 'Accepted') {
      const high = await core.readings.energyHigh(latest.id, { carSide: true });
      c.session = { transactionId: latest.id, startedAt: latest.startedAt, meterStartWh: latest.meterStartWh, lastWh: high.wh };
      c.energyWh = high.wh ?? latest.meterStartWh;
      const [power] = await core.readings.ofSession(latest.id, { measurands: [ACTIVE_POWER], carSide: true, totalsOnly: true, latest: 1 });
      c.powerW = power ? power.value : null;
      c.sampleAt = high.at;
    } else {
      c.energyWh = latest.meterStopWh ?? latest.meterStartWh;
      c.powerW = 0;
    }
    return c;
  };

  const build = async (v: ChargerView): Promise<ChargerModel | null> => {
    if (!v.approved) return null;
    if (chargers.size >= MAX_CHARGERS) {
      log.warn(`more than ${MAX_CHARGERS} chargers: ${slugOf(v.id)} is not shown in Home Assistant`);
      return null;
    }
    const slug = assignSlug(v.id);
    if (!slug) {
      log.warn(`no free Home Assistant name for charger ${slugOf(v.id, true)}; not shown`);
      return null;
    }
    const row = await db(ERRORS).where({ charger_id: v.id }).first('error') as { error: string } | undefined;
    let error: ErrorModel | null = row ? JSON.parse(row.error) as ErrorModel : null;
    const connectors = new Map<number, ConnectorModel>();
    for (const c of v.connectors) {
      if (c.errorCode !== 'NoError' && (!error || c.since > error.at)) {
        error = { error: c.errorCode, connectorId: c.connectorId, info: bounded(c.info), vendorErrorCode: bounded(c.vendorErrorCode), at: c.since };
      }
      if (c.connectorId >= 1 && c.connectorId <= MAX_CONNECTOR) connectors.set(c.connectorId, await connectorFrom(v.id, c.connectorId, c.status));
    }
    return {
      id: v.id, slug, name: bounded(v.name), vendor: bounded(v.vendor), model: bounded(v.model), firmwareVersion: bounded(v.firmwareVersion),
      online: core.chargers.isOnline(v.id), error, connectors,
    };
  };

  const add = (m: ChargerModel) => {
    chargers.set(m.id, m);
    bySlug.set(m.slug, m.id);
  };

  /** The charger's model, loaded from the core the first time it is heard of; null when not shown. */
  const ensure = (id: string): Promise<ChargerModel | null> => {
    const have = chargers.get(id);
    if (have) return Promise.resolve(have);
    let p = loading.get(id);
    if (!p) {
      p = (async () => {
        const v = await core.chargers.get(id);
        const m = v ? await build(v) : null;
        if (m && !chargers.has(id)) {
          add(m);
          notify(m, { config: true, charger: true, error: true });
        }
        return chargers.get(id) ?? null;
      })().finally(() => loading.delete(id));
      loading.set(id, p);
    }
    return p;
  };

  const connector = (m: ChargerModel, n: number): ConnectorModel | null => {
    if (n < 1 || n > MAX_CONNECTOR) return null;
    let c = m.connectors.get(n);
    if (!c) {
      c = { status: 'Available', powerW: null, energyWh: null, sampleAt: null, session: null };
      m.connectors.set(n, c);
      notify(m, { config: true });
    }
    return c;
  };

  return {
    get: (id: string) => chargers.get(id),
    bySlug: (slug: string) => { const id = bySlug.get(slug); return id === undefined ? undefined : chargers.get(id); },
    all: () => [...chargers.values()],
    ensure,

    /** Every approved charger, with the slugs it had before (from the devices table). */
    async load() {
      chargers.clear();
      bySlug.clear();
      known = new Map((await db(DEVICES).select('charger_id', 'slug') as Array<{ charger_id: string; slug: string }>).map((r) => [r.charger_id, r.slug]));
      for (const v of await core.chargers.list()) {
        const m = await build(v);
        if (m) add(m);
      }
    },

    /** Forgets a charger; its model, for the caller to take its entities away. */
    async remove(id: string): Promise<ChargerModel | undefined> {
      const m = chargers.get(id);
      chargers.delete(id);
      if (m) bySlug.delete(m.slug);
      known.delete(id);
      await db(ERRORS).where({ charger_id: id }).delete();
      return m;
    },

    async online(id: string, online: boolean) {
      const m = await ensure(id);
      if (!m || m.online === online) return;
      m.online = online;
      notify(m, { charger: true });
    },

    async booted(e: EventMap['charger.booted']) {
      const m = await ensure(e.chargerId);
      if (!m) return;
      // A rename has no event of its own: the device name follows at the next boot.
      const name = bounded((await core.chargers.record(e.chargerId))?.name);
      const next = { name, vendor: bounded(e.vendor), model: bounded(e.model), firmwareVersion: bounded(e.firmwareVersion) };
      if (next.name === m.name && next.vendor === m.vendor && next.model === m.model && next.firmwareVersion === m.firmwareVersion) return;
      Object.assign(m, next);
      notify(m, { config: true });
    },

    async status(e: EventMap['connector.status']) {
      const m = await ensure(e.chargerId);
      if (!m) return;
      if (e.errorCode !== 'NoError') {
        m.error = { error: e.errorCode, connectorId: e.connectorId, info: bounded(e.info), vendorErrorCode: bounded(e.vendorErrorCode), at: e.chargerTime };
        await db(ERRORS).insert({ charger_id: m.id, error: JSON.stringify(m.error) }).onConflict('charger_id').merge();
        notify(m, { error: true });
      }
      const c = connector(m, e.connectorId);
      if (!c || c.status === e.status) return;
      c.status = e.status;
      notify(m, { connector: e.connectorId });
    },

    async sampled(s: MeterSample) {
      if (s.source !== 'ocpp' || !s.chargerId || s.connectorId === undefined) return;
      const m = await ensure(s.chargerId);
      const c = m && connector(m, s.connectorId);
      if (!m || !c || (c.sampleAt && s.at < c.sampleAt)) return;
      if (s.powerW === undefined && s.energyImportWh === undefined) return;
      c.sampleAt = s.at;
      if (s.powerW !== undefined) c.powerW = s.powerW;
      if (s.energyImportWh !== undefined) {
        // The register as read: a replaced meter starting at 0 is a reset to HA's total_increasing, not a stuck value.
        c.energyWh = s.energyImportWh;
        if (c.session && (s.transactionId === undefined || s.transactionId === c.session.transactionId)) c.session.lastWh = s.energyImportWh;
      }
      notify(m, { connector: s.connectorId });
    },

    async started(e: EventMap['session.started']) {
      if (e.idTagInfo.status !== 'Accepted') return;
      const m = await ensure(e.chargerId);
      const c = m && connector(m, e.connectorId);
      if (!m || !c) return;
      c.session = { transactionId: e.transactionId, startedAt: e.startedAt, meterStartWh: e.meterStartWh, lastWh: null };
      if (!c.sampleAt || e.startedAt >= c.sampleAt) { c.energyWh = e.meterStartWh; c.sampleAt = e.startedAt; }
      notify(m, { connector: e.connectorId });
    },

    async stopped(e: EventMap['session.stopped']) {
      const m = await ensure(e.chargerId);
      const c = m?.connectors.get(e.connectorId);
      if (!m || !c) return;
      if (c.session && c.session.transactionId !== e.transactionId) return;
      c.session = null;
      c.powerW = 0;
      if (!c.sampleAt || e.stoppedAt >= c.sampleAt) { c.energyWh = e.meterStopWh; c.sampleAt = e.stoppedAt; }
      notify(m, { connector: e.connectorId });
    },
  };
}

export type Model = ReturnType<typeof createModel>;

/** A connector's state message: what its sensors read (no card, no driver). */
export function connectorState(c: ConnectorModel, nowMs: number) {
  const s = c.session;
  return {
    status: c.status,
    powerW: c.powerW,
    energyWh: c.energyWh,
    session: s
      ? {
        active: true, startedAt: s.startedAt,
        energyWh: Math.max(0, (s.lastWh ?? s.meterStartWh) - s.meterStartWh),
        durationS: Math.max(0, Math.round((nowMs - Date.parse(s.startedAt)) / 1000)),
      }
      : { active: false, startedAt: null, energyWh: 0, durationS: 0 },
  };
}
