import type { Knex } from 'knex';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/types.js';
import { announcements } from './discovery.js';
import type { Link } from './link.js';
import { connectorState, type Change, type ChargerModel, type Model } from './state.js';
import type { Topics } from './topics.js';

interface Dirty { config: boolean; charger: boolean; error: boolean; connectors: Set<number> }
interface DeviceRow { slug: string; charger_id: string; topics: string }

const DEVICES = 'homeassistant_devices';
/** Changes within this window go out as one message per topic (a MeterValues burst, a boot's statuses). */
const BATCH_MS = 50;

/**
 * Sends what changed, retained: discovery first, then states. Nothing is
 * queued while the broker is away: on every connection everything is sent
 * again, and chargers removed meanwhile are cleared.
 */
export function createPublisher(o: {
  db: Knex; link: Link; model: Model; topics: Topics; clock: Clock; log: Logger;
  commands: boolean; version: string;
}) {
  const { db, link, model, topics: t } = o;
  const dirty = new Map<string, Dirty>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let announced = 0;

  const entry = (id: string): Dirty => {
    let d = dirty.get(id);
    if (!d) dirty.set(id, d = { config: false, charger: false, error: false, connectors: new Set() });
    return d;
  };

  /** One thing at a time on the broker, in order; a failure is logged and does not stop the line. */
  const queue = (fn: () => Promise<void>): Promise<void> => {
    running = running.then(fn).catch((err: unknown) => {
      if (!(err instanceof Offline)) o.log.error(`publishing to Home Assistant failed: ${errorMessage(err)}`);
    });
    return running;
  };

  const schedule = () => {
    if (timer || !link.state.connected) return;
    timer = setTimeout(() => { timer = undefined; void queue(flush); }, BATCH_MS);
    timer.unref();
  };

  const stateTopics = (m: ChargerModel) => [t.availability(m.slug), t.charger(m.slug), t.error(m.slug), ...[...m.connectors.keys()].map((n) => t.connector(m.slug, n))];

  const send = async (topic: string, body: unknown) => {
    if (!(await link.publish(topic, typeof body === 'string' ? body : JSON.stringify(body)))) throw new Offline();
  };

  const announce = async (m: ChargerModel) => {
    const list = announcements({ chargerId: m.id, slug: m.slug, name: m.name, vendor: m.vendor, model: m.model, firmwareVersion: m.firmwareVersion, connectorIds: [...m.connectors.keys()].sort((a, b) => a - b) }, t, { commands: o.commands, version: o.version });
    const all = [...list.map((a) => a.topic), ...stateTopics(m)];
    const row = await db<DeviceRow>(DEVICES).where({ charger_id: m.id }).first();
    // Entities that are no longer offered (buttons turned off, a new slug) are taken away.
    for (const gone of row ? (JSON.parse(row.topics) as string[]).filter((x) => !all.includes(x)) : []) await send(gone, '');
    for (const a of list) await send(a.topic, a.body);
    await db(DEVICES).where({ charger_id: m.id }).orWhere({ slug: m.slug }).delete();
    await db(DEVICES).insert({ slug: m.slug, charger_id: m.id, topics: JSON.stringify(all), updated_at: o.clock.iso() });
    announced = await count();
  };

  const flushOne = async (m: ChargerModel, d: Dirty) => {
    if (d.config) { await announce(m); d.config = false; }
    if (d.charger) {
      await send(t.availability(m.slug), m.online ? 'online' : 'offline');
      await send(t.charger(m.slug), { online: m.online });
      d.charger = false;
    }
    if (d.error) {
      const e = m.error;
      await send(t.error(m.slug), e ? { ...e } : { error: 'none', connectorId: null, info: null, vendorErrorCode: null, at: null });
      d.error = false;
    }
    for (const n of [...d.connectors]) {
      const c = m.connectors.get(n);
      if (c) await send(t.connector(m.slug, n), connectorState(c, o.clock.nowMs()));
      d.connectors.delete(n);
    }
  };

  const flush = async () => {
    for (const [id, d] of [...dirty]) {
      dirty.delete(id);
      const m = model.get(id);
      if (!m) continue;
      try {
        await flushOne(m, d);
      } catch (err) {
        // What did not go out stays due, for the next flush or connection.
        const left = entry(id);
        left.config ||= d.config; left.charger ||= d.charger; left.error ||= d.error;
        for (const n of d.connectors) left.connectors.add(n);
        throw err;
      }
    }
  };

  const count = async () => Number(((await db(DEVICES).count({ n: '*' }).first()) as { n: number | string } | undefined)?.n ?? 0);

  /** Takes a charger's entities away (empty retained configs); the row stays until that went through. */
  const clear = async (row: DeviceRow) => {
    for (const topic of JSON.parse(row.topics) as string[]) await send(topic, '');
    await db(DEVICES).where({ slug: row.slug }).delete();
    announced = await count();
    o.log.info(`removed charger ${row.slug} from Home Assistant`);
  };

  return {
    mark(m: ChargerModel, c: Change) {
      const d = entry(m.id);
      if (c.config) { d.config = true; for (const n of m.connectors.keys()) d.connectors.add(n); }
      if (c.charger) d.charger = true;
      if (c.error) d.error = true;
      if (c.connector !== undefined) d.connectors.add(c.connector);
      schedule();
    },
    /** Everything again: after a (re)connection, or when Home Assistant restarts. */
    markAll() {
      for (const m of model.all()) this.mark(m, { config: true, charger: true, error: true });
    },
    /** Connectors with a running session, so its duration moves on. */
    markSessions() {
      for (const m of model.all()) for (const [n, c] of m.connectors) if (c.session) this.mark(m, { connector: n });
    },
    /** On connection: clears chargers removed while away, then sends everything. */
    async resync() {
      await queue(async () => {
        for (const row of await db<DeviceRow>(DEVICES)) {
          const m = model.get(row.charger_id);
          if (!m || m.slug !== row.slug) await clear(row);
        }
      });
      announced = await count();
      this.markAll();
    },
    async remove(chargerId: string) {
      dirty.delete(chargerId);
      await queue(async () => {
        const row = await db<DeviceRow>(DEVICES).where({ charger_id: chargerId }).first();
        try {
          if (row) await clear(row);
        } finally {
          announced = await count();
        }
      });
    },
    /** Waits for what is being sent now. */
    async settled() {
      await running;
    },
    announcedCount: () => announced,
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

class Offline extends Error {
  constructor() { super('not connected to the broker'); }
}
