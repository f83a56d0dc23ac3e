import type { StaticDecode, TSchema } from '@sinclair/typebox';
import type { Knex } from 'knex';
import type { Decisions, EventMap } from './events.js';
import type { Logger, Migration, PageSpec, RouteSpec } from './types.js';
import type { CoreServices } from './services.js';
import type { ConfigProblem } from './schema.js';

export interface PluginManifest<S extends TSchema> {
  /** kebab-case; = folder = config key = table prefix = log tag. */
  name: string;
  version: string;
  /** One line, shown in the UI. */
  summary: string;
  /** Plugins that must be enabled and register first; checked once at boot. */
  needs?: string[];
  /** Plugins used when present, ordered before this one if enabled. */
  wants?: string[];
  /** One schema: validation, defaults, TS type and the UI's settings form. */
  config: S;
  /** Cross-field checks the schema cannot express; each problem names its key path below the plugin. */
  validate?(config: StaticDecode<S>): ConfigProblem[];
}

export interface PluginContext<C> {
  readonly name: string;
  /** Validated, defaults applied. */
  readonly config: Readonly<C>;
  /** Child logger tagged with the plugin name. */
  readonly log: Logger;
  /** This plugin's migrations are already applied when start() runs. */
  readonly db: Knex;
  /** Shared core services: chargers, clock, accounts, audit, data dir. */
  readonly core: CoreServices;
  on<K extends keyof EventMap>(event: K, fn: (e: EventMap[K]) => void | Promise<void>): void;
  emit<K extends keyof EventMap>(event: K, e: EventMap[K]): void;
  /** First answer that is not undefined wins. */
  decide<K extends keyof Decisions>(hook: K, fn: Decisions[K]): void;
  /** Asks a decision of the plugins that answer it (e.g. `cost` of a transaction); undefined when none does. */
  ask<K extends keyof Decisions>(hook: K, arg: Parameters<Decisions[K]>[0]): Promise<Awaited<ReturnType<Decisions[K]>> | undefined>;
  /** Mounted under /api/. */
  route(spec: RouteSpec): void;
  /** A page in the UI's navigation (component lives in plugins/<name>/ui/). */
  page(spec: PageSpec): void;
  /** A job run every intervalMs between start() and stop(); errors are attributed to <plugin>/job:<name>. */
  every(name: string, intervalMs: number, fn: () => void | Promise<void>): void;
  /** A part of the site export (tariffs…): what setting up the next site like this one needs, never secrets. */
  sitePart(part: SitePart): void;
  /** The only way plugins talk to each other besides events. */
  provide<T>(api: T): void;
  use<T>(plugin: string): T | undefined;
}

/** What a plugin adds to a site's export file and takes from one. */
export interface SitePart {
  /** Its key in the file, like "tariffs". */
  key: string;
  /** Bounded and free of secrets: the file is handed around. */
  export(): Promise<unknown[]>;
  /** Adds what this site lacks and never overwrites; items come from a file and are checked like API input. */
  import(items: unknown[], actor: string): Promise<SitePartResult>;
}

export interface SitePartResult {
  added: number;
  skipped: number;
  /** One line per item not taken, naming it. */
  problems: string[];
}

export interface Lifecycle {
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface Plugin<S extends TSchema = TSchema> {
  manifest: PluginManifest<S>;
  migrations?: Migration[];
  /** Wiring only: no I/O, no timers. */
  register(ctx: PluginContext<StaticDecode<S>>): Lifecycle | void;
}

export const definePlugin = <S extends TSchema>(p: Plugin<S>): Plugin<S> => p;
