import type { Knex } from 'knex';
import { countRows, type Page } from '../../core/http/paging.js';
import { sendErrorOf, type SendErrorKind } from '../../core/ocpp/send-error.js';
import type { RecordedCommand as Recorded } from '../../core/ocpp/commands/maintenance.js';
import type { CoreServices } from '../../core/services.js';
import type { Logger } from '../../core/types.js';
import { errorMessage } from '../../core/errors.js';

/** One call of a probe and how the charger took it. */
export interface ProbeStep {
  action: string;
  request: unknown;
  /** answered = replied (Accepted or values); rejected = replied Rejected/NotImplemented; timeout = no reply in time. */
  outcome: 'answered' | 'rejected' | 'error' | 'timeout' | 'offline' | 'skipped';
  response?: unknown;
  error?: string;
  durationMs: number;
}

// How a failed send shows in a step; any other failure is 'error'.
const OUTCOME: Partial<Record<SendErrorKind, ProbeStep['outcome']>> = { timeout: 'timeout', offline: 'offline', callerror: 'rejected' };

/** The result of probing one charger. */
export interface ProbeResult {
  id: number;
  chargerId: string;
  /** "schedule" or the username who pressed "run diagnostics now". */
  trigger: string;
  startedAt: string;
  finishedAt: string;
  /** ok = every call answered; partial = answered, but refused some; unresponsive = answered nothing in time; offline = not connected. */
  outcome: 'ok' | 'partial' | 'unresponsive' | 'offline';
  steps: ProbeStep[];
  /** Configuration keys the charger reported (GetConfiguration). */
  configuration: Record<string, string | null>;
  /** Keys the charger does not know. */
  unknownKeys: string[];
  /** Remarks on what was found, in words. */
  notes: string[];
}

type Row = Record<string, unknown>;

export function probeView(r: Row): ProbeResult {
  const parse = <T>(v: unknown, d: T): T => (typeof v === 'string' && v ? (JSON.parse(v) as T) : d);
  return {
    id: r.id as number, chargerId: r.charger_id as string, trigger: r.trigger as string,
    startedAt: r.started_at as string, finishedAt: r.finished_at as string, outcome: r.outcome as ProbeResult['outcome'],
    steps: parse(r.steps, []), configuration: parse(r.configuration, {}), unknownKeys: parse(r.unknown_keys, []), notes: parse(r.notes, []),
  };
}

/** Remarks about a charger's settings that matter to the other checks. */
export function configNotes(config: Record<string, string | null>): string[] {
  const notes: string[] = [];
  const num = (k: string) => (config[k] === undefined || config[k] === null ? undefined : Number(config[k]));
  const sample = num('MeterValueSampleInterval');
  if (sample === 0) notes.push('Periodic meter values are off (MeterValueSampleInterval = 0): running sessions show no progress, so stuck sessions and energy stalls cannot be seen. Set it to 60–300 s.');
  else if (sample !== undefined && sample > 900) notes.push(`Meter values come only every ${sample} s; stalls are seen late. 60–300 s is usual.`);
  const hb = num('HeartbeatInterval');
  if (hb === 0) notes.push('Heartbeats are off (HeartbeatInterval = 0): a silent charger is only noticed when its socket drops.');
  else if (hb !== undefined && hb > 3600) notes.push(`Heartbeat only every ${hb} s: a hung charger is noticed late.`);
  if (config.AuthorizationCacheEnabled === 'true') notes.push('The authorization cache is on: a card blocked on the appliance may still start sessions at this charger until the cache is cleared (ClearCache).');
  if (config.LocalAuthListEnabled === 'false') notes.push('The local authorization list is off: while offline, only cached cards (if any) can charge.');
  return notes;
}

interface ProberDeps {
  db: Knex;
  core: CoreServices;
  log: Logger;
  timeoutMs: () => number;
  keys: () => string[];
  /** Called with every finished probe, for the checks that read probe results. */
  onResult(result: ProbeResult): Promise<void>;
}

/** Runs maintenance probes: a status notification and a heartbeat asked for, then the key settings read. */
export class Prober {
  #d: ProberDeps;
  #running = new Map<string, Promise<ProbeResult>>();
  /** When this run first saw each charger online; its first probe is due one interval later. */
  #firstSeen = new Map<string, number>();

  /** Chargers to probe on the next maintenance run, whatever their due time. */
  #soon = new Set<string>();

  constructor(d: ProberDeps) {
    this.#d = d;
  }

  /** Waits for running probes (stop). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.#running.values()]);
  }

  probeSoon(chargerId: string): void {
    this.#soon.add(chargerId);
  }

  /** Probes one charger; a second request while one runs gets the same result. */
  run(chargerId: string, trigger: string): Promise<ProbeResult> {
    const running = this.#running.get(chargerId);
    if (running) return running;
    const p = this.#probe(chargerId, trigger).finally(() => this.#running.delete(chargerId));
    this.#running.set(chargerId, p);
    return p;
  }

  /** The maintenance job: probes every online charger whose last probe is older than intervalMs. */
  async runDue(intervalMs: number): Promise<void> {
    const { core, db } = this.#d;
    const now = core.clock.nowMs();
    const online = core.chargers.onlineIds();
    for (const id of [...this.#firstSeen.keys()]) if (!online.includes(id)) this.#firstSeen.delete(id);
    const due: string[] = [];
    for (const id of online) {
      if (!this.#firstSeen.has(id)) this.#firstSeen.set(id, now);
      const last = await db('diagnostics_probes').where({ charger_id: id }).max('started_at as at').first() as { at?: string | null } | undefined;
      const base = last?.at ? Date.parse(last.at) : this.#firstSeen.get(id)!;
      if (now - base >= intervalMs || this.#soon.has(id)) due.push(id);
    }
    for (const id of due) this.#soon.delete(id);
    // A few at a time: a site has few chargers, and each probe mostly waits on the network.
    for (let i = 0; i < due.length; i += 4) {
      await Promise.all(due.slice(i, i + 4).map((id) => this.run(id, 'schedule').catch((err: unknown) => {
        this.#d.log.warn(`probe of ${id} failed: ${String(err)}`);
      })));
    }
  }

  /** One probe call, recorded with what the charger was sent (its version's action and payload) and how it answered. */
  async #call<In, Out>(chargerId: string, command: Recorded<In, Out>, input: In, refused: (answer: Out) => boolean): Promise<ProbeStep & { answer?: Out }> {
    const { action, request } = await command.wire(chargerId, input);
    const started = Date.now();
    try {
      const answer = await command(chargerId, input, { actor: 'plugin:diagnostics', timeoutMs: this.#d.timeoutMs() });
      return { action, request, outcome: refused(answer) ? 'rejected' : 'answered', response: answer, answer, durationMs: Date.now() - started };
    } catch (err) {
      const error = errorMessage(err);
      const kind = sendErrorOf(err)?.kind;
      const outcome = (kind && OUTCOME[kind]) ?? 'error';
      return { action, request, outcome, error, durationMs: Date.now() - started };
    }
  }

  async #probe(chargerId: string, trigger: string): Promise<ProbeResult> {
    const { core, db } = this.#d;
    const { commands } = core.chargers;
    const startedAt = core.clock.iso();
    const steps: ProbeStep[] = [];
    // A charger that did not answer one call will not answer the next either: do not wait for each.
    const next = async <In, Out>(command: Recorded<In, Out>, input: In, refused: (answer: Out) => boolean) => {
      const stop = steps.find((s) => s.outcome === 'timeout' || s.outcome === 'offline');
      if (stop) {
        const { action, request } = await command.wire(chargerId, input);
        steps.push({ action, request, outcome: 'skipped', error: `skipped after ${stop.outcome}`, durationMs: 0 });
        return undefined;
      }
      const { answer, ...step } = await this.#call(chargerId, command, input, refused);
      steps.push(step);
      return step.outcome === 'answered' ? answer : undefined;
    };
    const notTaken = (a: { accepted: boolean }) => !a.accepted;
    await next(commands.trigger, { message: 'status' }, notTaken);
    await next(commands.trigger, { message: 'heartbeat' }, notTaken);
    const settings = await next(commands.readSettings, { keys: this.#d.keys() }, () => false);
    const configuration: Record<string, string | null> = { ...settings?.values };
    const unknownKeys = settings?.unknown ?? [];
    const outcomes = steps.map((s) => s.outcome);
    const outcome: ProbeResult['outcome'] = outcomes.includes('offline') ? 'offline'
      : outcomes.every((o) => o === 'timeout' || o === 'skipped') ? 'unresponsive'
        : outcomes.every((o) => o === 'answered') ? 'ok' : 'partial';
    const notes = [...configNotes(configuration)];
    for (const s of steps) {
      const asked = (s.request as { requestedMessage?: unknown } | null)?.requestedMessage;
      if (s.outcome === 'rejected') notes.push(`The charger refused ${s.action}${typeof asked === 'string' ? ` ${asked}` : ''}${s.error ? ` (${s.error})` : ''}.`);
      if (s.outcome === 'timeout') notes.push(`The charger did not answer ${s.action} within ${Math.round(this.#d.timeoutMs() / 100) / 10} s.`);
    }
    const finishedAt = core.clock.iso();
    const [row] = await db('diagnostics_probes').insert({
      charger_id: chargerId, trigger, started_at: startedAt, finished_at: finishedAt, outcome,
      steps: JSON.stringify(steps), configuration: JSON.stringify(configuration), unknown_keys: JSON.stringify(unknownKeys), notes: JSON.stringify(notes),
    }).returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
    const result: ProbeResult = { id, chargerId, trigger, startedAt, finishedAt, outcome, steps, configuration, unknownKeys, notes };
    await this.#d.onResult(result);
    return result;
  }

  /** One page of probe results, newest first, and how many there are in all. */
  async list(filter: { chargerId?: string } & Page): Promise<{ rows: ProbeResult[]; total: number }> {
    const q = this.#d.db('diagnostics_probes');
    if (filter.chargerId) q.where({ charger_id: filter.chargerId });
    const [rows, total] = await Promise.all([
      q.clone().orderBy('started_at', 'desc').orderBy('id', 'desc').limit(filter.limit).offset(filter.offset),
      countRows(q),
    ]);
    return { rows: (rows as Row[]).map(probeView), total };
  }
}
