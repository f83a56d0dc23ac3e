import type { Knex } from 'knex';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import type { LocalAuthSettings, LocalListEntry } from '../../core/ocpp/commands/authorization.js';
import type { CoreServices } from '../../core/services.js';
import type { Logger } from '../../core/types.js';
import { ListStateStore, type ListEntry, type ListState } from './local-list-state.js';
import { bumpVersion, listVersion, type TagStore } from './tag-store.js';
import { errorMessage } from '../../core/errors.js';

/** Why a charger is being synced: boots and operator requests probe it first; the others trust what we stored. */
export type SyncReason = 'boot' | 'manual' | 'connect' | 'change' | 'retry';

export interface LocalListConfig { enabled: boolean; maxEntries: number }

const ACTOR_OPTS = { actor: 'plugin:users' };
// Chargers must read their BootNotification answer before we call them.
const BOOT_DELAY_MS = 200;
// A reconnecting charger usually boots right after; give that boot the first word.
const CONNECT_DELAY_MS = 1000;

/** A card's offline answer as the list holds it; stored as JSON per entry to compare lists. */
interface EntryInfo { status: string; expiryDate?: string; parentIdTag?: string }

/** Entries of one list update: a card without info is removed (Differential only). */
type ListUpdate = Array<{ idTag: string; info?: EntryInfo }>;

const toEntry = (e: ListUpdate[number]): LocalListEntry => ({
  idTag: e.idTag,
  ...(e.info ? { status: e.info.status, ...(e.info.expiryDate ? { expiresAt: e.info.expiryDate } : {}), ...(e.info.parentIdTag ? { parentIdTag: e.info.parentIdTag } : {}) } : {}),
});

/** How a list update went: accepted at `version`, or stopped at its `request`th request (1-based; the earlier ones were applied). */
type Sent =
  | { accepted: true; version: number }
  | { accepted: false; request: number; status: string | null; error: string };

/**
 * Keeps each charger's Local Authorization List equal to the tags it may
 * accept, so members can charge while the network is down, and clears
 * chargers' authorization caches when a card loses access. Work for one
 * charger runs one step at a time; requests that pile up while it is busy
 * collapse into one.
 */
export class LocalLists {
  readonly #db: Knex;
  readonly #core: CoreServices;
  readonly #log: Logger;
  readonly #tags: TagStore;
  readonly #config: LocalListConfig;
  readonly #state: ListStateStore;
  readonly #chains = new Map<string, Promise<void>>();
  readonly #queued = new Map<string, SyncReason>();
  // At most one delayed sync per charger; a boot replaces a pending connect.
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(d: { db: Knex; core: CoreServices; log: Logger; tags: TagStore; config: LocalListConfig }) {
    this.#db = d.db;
    this.#core = d.core;
    this.#log = d.log;
    this.#tags = d.tags;
    this.#config = d.config;
    this.#state = new ListStateStore(d.db);
  }

  booted(chargerId: string): void {
    this.#cancel(chargerId);
    this.#later(chargerId, BOOT_DELAY_MS, 'boot');
  }

  connected(chargerId: string): void {
    if (!this.#timers.has(chargerId)) this.#later(chargerId, CONNECT_DELAY_MS, 'connect');
  }

  /** A sync planned for a connection that is gone would meet the next one by surprise. */
  disconnected(chargerId: string): void {
    this.#cancel(chargerId);
  }

  /** After tags changed: update every online charger; on a revocation every charger also clears its cache (offline ones when they are back). */
  async changed(change: { revoked: boolean }): Promise<void> {
    if (this.#stopped) return;
    if (change.revoked) {
      const all = (await this.#core.chargers.records()).map((c) => c.id);
      await this.#state.wantCacheCleared(all, await listVersion(this.#db));
    }
    for (const id of this.#core.chargers.onlineIds()) void this.request(id, 'change');
  }

  /** Retries what failed: chargers online with a failed sync or a cache clearing still owed. */
  async retry(): Promise<void> {
    for (const s of await this.#state.all()) {
      if ((s.dirty || s.clearCacheWanted !== null) && this.#core.chargers.isOnline(s.chargerId)) void this.request(s.chargerId, 'retry');
    }
  }

  /** An operator sent a list update by hand: what the charger holds is no longer known. */
  externalListChange(chargerId: string): void {
    void this.#exclusive(chargerId, async () => {
      const s = await this.#state.load(chargerId);
      await this.#state.save({ ...s, listVersion: null });
    });
  }

  /** The charger was removed: its list state goes (a charger of that id registering later starts afresh). */
  forget(chargerId: string): Promise<void> {
    this.#queued.delete(chargerId);
    const timer = this.#timers.get(chargerId);
    if (timer) clearTimeout(timer);
    this.#timers.delete(chargerId);
    return this.#exclusive(chargerId, () => this.#state.forget(chargerId));
  }

  /** Forgets the stored version and syncs now with a Full list. */
  async resync(chargerId: string): Promise<ListState> {
    await this.#exclusive(chargerId, async () => {
      const s = await this.#state.load(chargerId);
      await this.#state.save({ ...s, listVersion: null });
    });
    await this.request(chargerId, 'manual');
    return this.#state.load(chargerId);
  }

  async status(): Promise<ListState[]> {
    return this.#state.all();
  }

  /** Queues a sync; a sync already waiting for this charger absorbs the request (a probe wins). */
  request(chargerId: string, reason: SyncReason): Promise<void> {
    const waiting = this.#queued.get(chargerId);
    if (waiting !== undefined) {
      if (reason === 'boot' || reason === 'manual') this.#queued.set(chargerId, reason);
      return this.#chains.get(chargerId) ?? Promise.resolve();
    }
    this.#queued.set(chargerId, reason);
    return this.#exclusive(chargerId, async () => {
      const why = this.#queued.get(chargerId) ?? reason;
      this.#queued.delete(chargerId);
      await this.#run(chargerId, why);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const id of [...this.#timers.keys()]) this.#cancel(id);
    await Promise.allSettled([...this.#chains.values()]);
  }

  #later(chargerId: string, delayMs: number, reason: SyncReason): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(chargerId);
      void this.request(chargerId, reason);
    }, delayMs);
    this.#timers.set(chargerId, timer);
  }

  #cancel(chargerId: string): void {
    clearTimeout(this.#timers.get(chargerId));
    this.#timers.delete(chargerId);
  }

  #exclusive(chargerId: string, fn: () => Promise<void>): Promise<void> {
    const run = (this.#chains.get(chargerId) ?? Promise.resolve()).then(fn).catch((err: unknown) => this.#log.error(`local list of ${chargerId}: ${errorMessage(err)}`));
    this.#chains.set(chargerId, run);
    void run.finally(() => { if (this.#chains.get(chargerId) === run) this.#chains.delete(chargerId); });
    return run;
  }

  async #run(chargerId: string, reason: SyncReason): Promise<void> {
    if (this.#stopped || !this.#core.chargers.isOnline(chargerId)) return;
    let s = await this.#state.load(chargerId);
    try {
      let reported: number | null = s.listVersion;
      if (reason === 'boot' || reason === 'manual') ({ state: s, reported } = await this.#probe(s));
      if (s.clearCacheWanted !== null) await this.#clearAuthCache(s);
      if (this.#config.enabled && s.supported === true) s = await this.#sync(s, reported, reason);
      else s = { ...s, dirty: false };
    } catch (err) {
      // Offline or silent: keep what we know and try again at the next connect, boot or retry.
      s = { ...s, dirty: true, lastError: errorMessage(err) };
      this.#log.warn(`local list of ${chargerId} not synced (${reason}): ${errorMessage(err)}`);
    }
    await this.#state.save(s);
  }

  /** Asks the charger what it supports and which list version it holds. Only a probe decides "unsupported". */
  async #probe(s: ListState): Promise<{ state: ListState; reported: number | null }> {
    const next: ListState = { ...s, probedAt: this.#core.clock.iso() };
    const commands = this.#core.chargers.commands;
    let settings: LocalAuthSettings = { cacheEnabled: null, listEnabled: null, maxEntries: null, maxPerRequest: null };
    try {
      settings = await commands.localAuthSettings(s.chargerId, {}, ACTOR_OPTS);
    } catch (err) {
      if (sendErrorOf(err)?.kind !== 'callerror') throw err;
    }
    next.cacheEnabled = settings.cacheEnabled;
    next.maxLength = settings.maxEntries;
    next.sendMaxLength = settings.maxPerRequest;
    let reported: number | null = null;
    if (!this.#config.enabled) return { state: next, reported };
    try {
      const held = await commands.getLocalListVersion(s.chargerId, {}, ACTOR_OPTS);
      reported = held.version;
      // A list switched off in the charger's settings is as good as none.
      next.supported = held.supported && settings.listEnabled !== false;
    } catch (err) {
      if (sendErrorOf(err)?.kind !== 'callerror') throw err;
      next.supported = false;
    }
    if (!next.supported) next.listVersion = null;
    return { state: next, reported };
  }

  async #clearAuthCache(s: ListState): Promise<void> {
    const wanted = s.clearCacheWanted!;
    if (s.cacheEnabled !== false) {
      try {
        const res = await this.#core.chargers.commands.clearAuthCache(s.chargerId, {}, ACTOR_OPTS);
        if (!res.accepted) this.#log.warn(`charger ${s.chargerId} refused to clear its authorization cache (${res.status})`);
      } catch (err) {
        // A charger without the call has no cache to clear; offline and timeouts are retried.
        if (sendErrorOf(err)?.kind !== 'callerror') throw err;
      }
    }
    await this.#state.clearCacheDone(s.chargerId, wanted);
  }

  /** What the charger should hold: the cards it may accept, accepted ones first when the list must be cut. */
  async #desired(chargerId: string, max: number): Promise<Map<string, ListEntry & { entry: EntryInfo }>> {
    const all = [...(await this.#tags.valued()).entries()]
      .filter(([, v]) => !v.eff.chargerIds || v.eff.chargerIds.includes(chargerId))
      .sort(([ka, a], [kb, b]) => Number(a.eff.status !== 'Accepted') - Number(b.eff.status !== 'Accepted') || ka.localeCompare(kb));
    if (all.length > max) this.#log.warn(`charger ${chargerId}: ${all.length} tags apply but the local list holds ${max}; the rest are authorized online`);
    const out = new Map<string, ListEntry & { entry: EntryInfo }>();
    for (const [key, { tag, eff }] of all.slice(0, max)) {
      const entry: EntryInfo = { status: eff.status };
      if (eff.expiryDate) entry.expiryDate = eff.expiryDate;
      if (tag.parentIdTag) entry.parentIdTag = tag.parentIdTag;
      out.set(key, { idTag: tag.idTag, info: JSON.stringify(entry), entry });
    }
    return out;
  }

  /** A version above what the charger holds, from the global counter (raised if a charger is ahead of it). */
  async #nextVersion(above: number): Promise<number> {
    const v = await listVersion(this.#db);
    return v > above ? v : bumpVersion(this.#db, above + 1);
  }

  async #sync(s: ListState, reported: number | null, reason: SyncReason): Promise<ListState> {
    const max = Math.min(this.#config.maxEntries, s.maxLength ?? Infinity);
    const desired = await this.#desired(s.chargerId, max);
    const current = await listVersion(this.#db);
    // After a boot the charger gets a Full list unless it is exactly up to date: cheap, and it repairs any drift.
    let full = s.listVersion === null || reported !== s.listVersion || (reason === 'boot' && reported !== current);
    if (!full) {
      const held = await this.#state.entries(s.chargerId);
      const changes: ListUpdate = [];
      for (const [key, e] of desired) if (held.get(key)?.info !== e.info) changes.push({ idTag: e.idTag, info: e.entry });
      for (const [key, e] of held) if (!desired.has(key)) changes.push({ idTag: e.idTag });
      if (!changes.length) return { ...s, dirty: false, lastError: null };
      const sent = await this.#sendUpdate(s, 'Differential', changes, s.listVersion!);
      if (sent.accepted) return this.#stored(s, sent.version, desired);
      // Part of the update is applied: the charger holds neither list, so only a Full update (next sync) repairs it.
      if (sent.request > 1) return this.#notInSync(s, sent);
      if (sent.status === 'NotSupported') return { ...s, supported: false, listVersion: null, dirty: false, lastError: null };
      this.#log.info(`charger ${s.chargerId} answered ${String(sent.status)} to a differential list update; sending the full list`);
      full = true;
    }
    const holds = reported ?? s.listVersion ?? 0;
    if (!desired.size && holds === 0) return this.#stored(s, 0, desired);
    const list: ListUpdate = [...desired.values()].map((e) => ({ idTag: e.idTag, info: e.entry }));
    const sent = await this.#sendUpdate(s, 'Full', list, holds);
    if (sent.accepted) return this.#stored(s, sent.version, desired);
    if (sent.request === 1 && sent.status === 'NotSupported') return { ...s, supported: false, listVersion: null, dirty: false, lastError: null };
    return this.#notInSync(s, sent);
  }

  /**
   * Sends one update in requests of at most the charger's entries per request (one request when the
   * charger did not say): the first keeps the update's type, the rest add to it as Differential
   * updates. Stops at the first request not accepted.
   */
  async #sendUpdate(s: ListState, updateType: 'Full' | 'Differential', list: ListUpdate, above: number): Promise<Sent> {
    const per = s.sendMaxLength ?? Infinity;
    const chunks: ListUpdate[] = [];
    let at = 0;
    do {
      chunks.push(list.slice(at, at + per));
      at += per;
    } while (at < list.length);
    // A request's version is the version the charger holds once it has applied that request, and a
    // charger answers VersionMismatch to a Differential not above the version it holds. So each request
    // gets its own version, one above the previous (repeating the final one would be refused); they end
    // at the global counter so that a fully synced charger still matches it at its next boot.
    const last = await this.#nextVersion(above + chunks.length - 1);
    for (const [i, chunk] of chunks.entries()) {
      const version = last - chunks.length + 1 + i;
      const update = { version, full: i === 0 && updateType === 'Full', entries: chunk.map(toEntry) };
      const what = `${chunks.length > 1 ? `request ${i + 1} of ${chunks.length} of ` : ''}a ${updateType.toLowerCase()} list update`;
      let status: string;
      try {
        status = (await this.#core.chargers.commands.sendLocalList(s.chargerId, update, ACTOR_OPTS)).status;
      } catch (err) {
        // Before anything was applied this is an ordinary failed sync; after, the list is half done.
        if (i === 0) throw err;
        return { accepted: false, request: i + 1, status: null, error: `${what} failed: ${errorMessage(err)}` };
      }
      if (status !== 'Accepted') return { accepted: false, request: i + 1, status, error: `charger answered ${status} to ${what}` };
    }
    return { accepted: true, version: last };
  }

  #notInSync(s: ListState, sent: Extract<Sent, { accepted: false }>): ListState {
    if (sent.request > 1) this.#log.warn(`local list of ${s.chargerId} not in sync: ${sent.error}`);
    return { ...s, listVersion: null, dirty: true, lastError: sent.error };
  }

  async #stored(s: ListState, version: number, desired: Map<string, ListEntry>): Promise<ListState> {
    await this.#state.replaceEntries(s.chargerId, new Map([...desired].map(([k, e]) => [k, { idTag: e.idTag, info: e.info }])));
    return { ...s, listVersion: version, dirty: false, lastError: null, syncedAt: this.#core.clock.iso() };
  }
}
