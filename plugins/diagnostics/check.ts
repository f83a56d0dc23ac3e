import type { StaticDecode, TObject, TProperties } from '@sinclair/typebox';
import type { Knex } from 'knex';
import type { EventMap, EventName, Severity } from '../../core/events.js';
import type { CoreServices } from '../../core/services.js';
import type { Logger } from '../../core/types.js';
import type { ProbeResult } from './probes.js';

/** Which condition a finding describes: one active finding per key. */
export interface FindingKey {
  chargerId: string | null;
  /** null = the charger (or meter) as a whole. */
  connectorId?: number | null;
  /** Tells apart several conditions of one check on one connector (an error code, a meter id, a transaction). */
  subKey?: string;
}

/** What a check says when it raises a finding. */
export interface RaiseInput extends FindingKey {
  severity: Severity;
  /** What is wrong, in plain words ("Connector 1 of CP1 reports a ground fault."). */
  problem: string;
  /** The likely cause, in plain words. */
  cause: string;
  /** What an operator should do. */
  action: string;
  /** When the condition began (ISO); defaults to now. Only used when the finding is new. */
  since?: string;
  /** Numbers behind the finding, shown in the UI (e.g. { driftS: 600 }). */
  detail?: Record<string, unknown>;
}

/** An active finding as checks see it. */
export interface ActiveFinding {
  id: number;
  check: string;
  chargerId: string | null;
  connectorId: number | null;
  subKey: string;
  severity: Severity;
  since: string;
  detail: Record<string, unknown>;
}

/** What a check may use: its config, its own state, the store of findings and the core. */
export interface CheckContext<C, S> {
  readonly id: string;
  /** The whole plugin config, decoded; a check reads its own keys. */
  readonly config: C;
  /** This check's in-memory state for this run (made by its state()). */
  readonly state: S;
  readonly db: Knex;
  readonly core: CoreServices;
  readonly log: Logger;
  /** ctx.core.clock.nowMs(): all time goes through the core clock so tests can move it. */
  now(): number;
  raise(f: RaiseInput): Promise<void>;
  /** Clears the active finding with this key, if any. */
  clear(key: FindingKey): Promise<void>;
  /** Clears every active finding of this check that matches. */
  clearWhere(match: (f: ActiveFinding) => boolean): Promise<void>;
  /** This check's active findings. */
  active(): ActiveFinding[];
  /**
   * Runs this check's tick at server time atMs: the known deadline of one of its conditions
   * (a closed socket's offlineAfter), so it is raised on time rather than at the next evaluation job.
   * A later call with the same key replaces the earlier deadline.
   */
  wakeAt(key: string, atMs: number): void;
  /** Asks for a maintenance probe of this charger on the next maintenance run (within a minute) instead of at its due time. */
  probeSoon(chargerId: string): void;
}

type EventHandlers<C, S> = { [K in EventName]?: (e: EventMap[K], cx: CheckContext<C, S>) => void | Promise<void> };

/**
 * One check: data (id, summary, config keys with defaults, events read) plus
 * the functions that raise and clear its findings. A check is one file in
 * checks/ registered in checks/index.ts.
 */
export interface Check<P extends TProperties = TProperties, S = unknown> {
  /** Stable id, fixed by the spec for the standard checks ("offline"). */
  id: string;
  /** What it finds, one line for GET /api/diagnostics/checks and the UI. */
  summary: string;
  /** Its config keys with defaults; merged into the plugin's config section. */
  config: P;
  /** Fresh in-memory state for one run of the plugin. */
  state(): S;
  /** Bus events it reads. */
  on: EventHandlers<StaticDecode<TObject<P>>, S>;
  /** Conditions that depend on time passing: run at each deadline a check asked for (wakeAt) and on the evaluation job (every evaluateEvery) as a backstop. */
  tick?(cx: CheckContext<StaticDecode<TObject<P>>, S>): Promise<void>;
  /** Runs once at start: re-evaluates the stored active findings against what the core knows now. */
  start?(cx: CheckContext<StaticDecode<TObject<P>>, S>): Promise<void>;
  /** Runs after every maintenance probe of a charger. */
  probed?(result: ProbeResult, cx: CheckContext<StaticDecode<TObject<P>>, S>): Promise<void>;
}

/** A check with its types erased, as the registry holds it. */
export interface AnyCheck {
  id: string;
  summary: string;
  config: TProperties;
  state(): unknown;
  on: EventHandlers<unknown, unknown>;
  tick?(cx: CheckContext<unknown, unknown>): Promise<void>;
  start?(cx: CheckContext<unknown, unknown>): Promise<void>;
  probed?(result: ProbeResult, cx: CheckContext<unknown, unknown>): Promise<void>;
}

/** A check as its file exports it: erased for the registry, but with its config keys' types, which make the plugin's config type. */
export type DefinedCheck<P extends TProperties> = Omit<AnyCheck, 'config'> & { readonly config: P };

/** Keeps a check's own types inside its file and hands the registry an erased one. */
export function defineCheck<P extends TProperties, S>(check: Check<P, S>): DefinedCheck<P> {
  // The registry calls each check only with its own state and the config built from its own keys.
  return check as unknown as DefinedCheck<P>;
}

/** "CP1", "connector 2 of CP1" or "CP1 (whole charger)". */
export function where(chargerId: string, connectorId: number | null | undefined): string {
  if (connectorId === null || connectorId === undefined) return `Charger ${chargerId}`;
  if (connectorId === 0) return `Charger ${chargerId} (as a whole, connector 0)`;
  return `Connector ${connectorId} of ${chargerId}`;
}

/** "3 min", "1 h 5 min", "45 s" for messages. */
export function minutes(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}
