import type { Knex } from 'knex';
import { Value } from '@sinclair/typebox/value';
import type { Bus } from './bus.js';
import type { Clock } from './clock.js';
import { migrate } from './db/index.js';
import { PluginError } from './errors.js';
import type { Lifecycle, Plugin, PluginContext, SitePart } from './plugin.js';
import { decode, formatDuration, parseDuration, type ConfigProblem } from './schema.js';
import type { CoreServices } from './services.js';
import type { Logger, PageSpec, RouteSpec } from './types.js';
import { errorMessage } from './errors.js';

/** A plugin known to the registry and the folder its files (and UI pages) live in. */
export interface RegistryEntry {
  // any: each plugin has its own config schema; the host only handles them through the manifest.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  plugin: Plugin<any>;
  dir: string;
}

/** A section of the site config that enables a plugin or adapter: its key, its config path, its value. */
export interface EnabledSection {
  key: string;
  path: string;
  raw: unknown;
  registry: Record<string, RegistryEntry>;
}

interface RegisterDeps {
  db: Knex;
  core: CoreServices;
  log: Logger;
}

export type PluginState = 'starting' | 'running' | 'failed' | 'stopped';

export interface PluginStatus {
  name: string;
  version: string;
  summary: string;
  state: PluginState;
  error: string | null;
  pages: Array<PageSpec & { module: string }>;
}

interface Loaded {
  name: string;
  entry: RegistryEntry;
  /** The section as written (environment substituted), to tell a changed one. */
  raw: unknown;
  config: unknown;
  state: PluginState;
  error: string | null;
  lifecycle: Lifecycle | void;
  routes: RouteSpec[];
  pages: PageSpec[];
  jobs: Array<{ name: string; intervalMs: number; fn: () => void | Promise<void> }>;
  disposers: Array<() => void>;
  provided: unknown;
  siteParts: SitePart[];
}

/**
 * Validates, orders, migrates, registers, starts and stops plugins.
 * A plugin is enabled by its key in the config; one that fails is marked
 * failed and isolated while the others keep running.
 */
export class PluginHost {
  #loaded: Loaded[] = [];
  #bus: Bus;
  #clock: Clock;
  #log: Logger;
  #deps: RegisterDeps | undefined;

  /** Wraps each ctx.every job by its name ("<plugin>/<job>"); set by boot in a cluster, else none. */
  jobGate: ((name: string, fn: () => void | Promise<void>) => () => void | Promise<void>) | null = null;

  constructor(bus: Bus, clock: Clock, log: Logger) {
    this.#bus = bus;
    this.#clock = clock;
    this.#log = log;
  }

  /**
   * Checks every enabled section and the dependencies between plugins, and
   * fixes the start order. Nothing is opened or started here.
   * Each enabled section names its config path ("plugins.users", "meters") and the registry it comes from.
   */
  prepare(enabled: EnabledSection[]): ConfigProblem[] {
    const { found, ordered } = this.#plan(enabled);
    this.#loaded = ordered;
    return found;
  }

  #plan(enabled: EnabledSection[]): { found: ConfigProblem[]; ordered: Loaded[] } {
    const found: ConfigProblem[] = [];
    const candidates: Loaded[] = [];
    for (const { key, path, raw, registry } of enabled) {
      const entry = registry[key];
      if (!entry) {
        found.push({ path, message: `unknown plugin; known plugins: ${Object.keys(registry).join(', ')}` });
        continue;
      }
      const { manifest } = entry.plugin;
      const result = decode<unknown>(manifest.config, raw, path);
      found.push(...result.problems);
      if (result.value !== undefined && manifest.validate) {
        for (const p of manifest.validate(result.value as never)) {
          found.push({ path: p.path.startsWith('[') ? `${path}${p.path}` : `${path}.${p.path}`, message: p.message });
        }
      }
      candidates.push({
        name: manifest.name, entry, raw, config: result.value, state: 'stopped', error: null, lifecycle: undefined,
        routes: [], pages: [], jobs: [], disposers: [], provided: undefined, siteParts: [],
      });
    }
    const names = new Set(candidates.map((c) => c.name));
    for (const c of candidates) {
      for (const need of c.entry.plugin.manifest.needs ?? []) {
        if (!names.has(need)) found.push({ path: pathOf(enabled, c), message: `Plugin ${c.name} needs ${need}, which is not enabled` });
      }
    }
    // Order by needs (and wants, when present); a cycle is a configuration problem.
    const ordered: Loaded[] = [];
    const visiting = new Set<string>();
    const byName = new Map(candidates.map((c) => [c.name, c]));
    const visit = (c: Loaded, chain: string[]): void => {
      if (ordered.includes(c)) return;
      if (visiting.has(c.name)) {
        found.push({ path: pathOf(enabled, c), message: `plugin dependency cycle: ${[...chain, c.name].join(' -> ')}` });
        return;
      }
      visiting.add(c.name);
      const m = c.entry.plugin.manifest;
      for (const dep of [...(m.needs ?? []), ...(m.wants ?? [])]) {
        const d = byName.get(dep);
        if (d) visit(d, [...chain, c.name]);
      }
      visiting.delete(c.name);
      ordered.push(c);
    };
    for (const c of candidates) visit(c, []);
    return { found, ordered };
  }

  async migrate(db: Knex): Promise<void> {
    for (const p of this.#loaded) await migrate(db, p.name, p.entry.plugin.migrations ?? []);
  }

  /** Calls every register() in order; collects routes, pages, jobs and handlers. */
  register(deps: RegisterDeps): void {
    this.#deps = deps;
    for (const p of this.#loaded) this.#registerOne(p, deps);
  }

  #registerOne(p: Loaded, deps: RegisterDeps): void {
    const ctx: PluginContext<unknown> = {
      name: p.name,
      config: p.config as Readonly<unknown>,
      log: deps.log.child(p.name),
      db: deps.db,
      core: deps.core,
      on: (event, fn) => { p.disposers.push(this.#bus.on(event, fn, p.name)); },
      emit: (event, e) => this.#bus.emit(event, e),
      decide: (hook, fn) => { p.disposers.push(this.#bus.decide(hook, fn, p.name)); },
      ask: (hook, arg) => this.#bus.ask(hook, arg),
      route: (spec) => { p.routes.push(spec); },
      page: (spec) => { p.pages.push(spec); },
      every: (name, intervalMs, fn) => { p.jobs.push({ name, intervalMs, fn }); },
      provide: (api) => { p.provided = api; },
      sitePart: (part) => { p.siteParts.push(part); },
      use: <T>(name: string) => {
        const other = this.#loaded.find((o) => o.name === name);
        return other && other.state !== 'failed' ? (other.provided as T | undefined) : undefined;
      },
    };
    try {
      p.lifecycle = p.entry.plugin.register(ctx as never);
      p.state = 'starting';
    } catch (err) {
      this.#fail(p, 'register', err);
    }
  }

  /** The site export parts of running plugins, in start order (what others need comes first). */
  siteParts(): Array<{ owner: string; part: SitePart }> {
    return this.#loaded.filter((p) => p.state === 'running').flatMap((p) => p.siteParts.map((part) => ({ owner: p.name, part })));
  }

  routes(): Array<{ owner: string; spec: RouteSpec }> {
    return this.#loaded.flatMap((p) => p.routes.map((spec) => ({ owner: p.name, spec })));
  }

  /** Starts plugins in dependency order; a failing start() isolates that plugin only. */
  async start(): Promise<void> {
    for (const p of this.#loaded) await this.#startOne(p);
  }

  async #startOne(p: Loaded): Promise<void> {
    if (p.state === 'failed') return;
    try {
      await p.lifecycle?.start?.();
      for (const job of p.jobs) {
        // In a cluster the gate runs each job on one node at a time (core/cluster/jobs.ts).
        const fn = this.jobGate ? this.jobGate(`${p.name}/${job.name}`, job.fn) : job.fn;
        p.disposers.push(this.#clock.every(job.intervalMs, fn, (err) => {
          this.#log.error(`${p.name}/job:${job.name} failed: ${errorMessage(err)}`);
          this.#bus.emit('plugin.failed', { plugin: p.name, hook: `job:${job.name}`, error: String(err), at: this.#clock.iso() });
        }));
      }
      p.state = 'running';
      this.#log.info(`plugin ${p.name} started`);
    } catch (err) {
      this.#fail(p, 'start', err);
    }
  }

  /** Stops plugins in reverse order and removes their handlers, jobs and decisions. */
  async stop(): Promise<void> {
    for (const p of [...this.#loaded].reverse()) await this.#stopOne(p);
  }

  async #stopOne(p: Loaded): Promise<void> {
    for (const dispose of p.disposers.splice(0)) dispose();
    if (p.state === 'running') {
      try {
        await p.lifecycle?.stop?.();
      } catch (err) {
        this.#log.error(new PluginError(p.name, 'stop', err).message);
      }
    }
    if (p.state !== 'failed') p.state = 'stopped';
  }

  /**
   * Takes a new, already checked site config without a restart: plugins whose
   * section changed, was added or removed stop, and start again with it, and
   * so do the plugins that need or want them; the others keep running.
   * Returns the plugins started again and those stopped for good.
   */
  async reconfigure(enabled: EnabledSection[], remount: (owner: string, routes: RouteSpec[]) => void): Promise<{ started: string[]; removed: string[]; problems: ConfigProblem[] }> {
    const deps = this.#deps;
    if (!deps) throw new Error('reconfigure() before register()');
    const { found, ordered } = this.#plan(enabled);
    if (found.length) return { started: [], removed: [], problems: found };
    const before = new Map(this.#loaded.map((p) => [p.name, p]));
    const affected = new Set<string>();
    for (const p of ordered) {
      const old = before.get(p.name);
      if (!old || old.entry !== p.entry || old.state === 'failed' || JSON.stringify(old.raw) !== JSON.stringify(p.raw)) affected.add(p.name);
    }
    const removed = [...before.keys()].filter((name) => !ordered.some((p) => p.name === name));
    for (const name of removed) affected.add(name);
    // A plugin holding another's API (use) must take the new one.
    for (let grew = true; grew;) {
      grew = false;
      for (const p of [...ordered, ...before.values()]) {
        const m = p.entry.plugin.manifest;
        if (!affected.has(p.name) && [...(m.needs ?? []), ...(m.wants ?? [])].some((d) => affected.has(d))) {
          affected.add(p.name);
          grew = true;
        }
      }
    }
    for (const p of [...this.#loaded].reverse()) if (affected.has(p.name)) await this.#stopOne(p);
    // A disabled plugin's routes stay mounted and answer 503 "plugin … is stopped".
    for (const name of removed) this.#log.info(`plugin ${name} disabled`);
    this.#loaded = ordered.map((p) => (affected.has(p.name) ? p : before.get(p.name)!));
    const fresh = this.#loaded.filter((p) => affected.has(p.name));
    for (const p of fresh) await migrate(deps.db, p.name, p.entry.plugin.migrations ?? []);
    for (const p of fresh) {
      this.#registerOne(p, deps);
      remount(p.name, p.routes);
    }
    for (const p of fresh) await this.#startOne(p);
    return { started: fresh.map((p) => p.name), removed, problems: [] };
  }

  #fail(p: Loaded, hook: string, err: unknown): void {
    const error = new PluginError(p.name, hook, err);
    p.state = 'failed';
    p.error = error.message;
    for (const dispose of p.disposers.splice(0)) dispose();
    this.#log.error(`plugin ${error.message}`, { stack: err instanceof Error ? err.stack : undefined });
    this.#bus.emit('plugin.failed', { plugin: p.name, hook, error: error.message, at: this.#clock.iso() });
  }

  state(name: string): PluginState {
    return this.#loaded.find((p) => p.name === name)?.state ?? 'stopped';
  }

  /** A running plugin's config schema and its settings from the site config, defaults filled in (durations in words: "10m"). */
  settings(name: string): { schema: unknown; value: unknown } | undefined {
    const p = this.#loaded.find((l) => l.name === name);
    if (!p) return undefined;
    const schema = p.entry.plugin.manifest.config;
    let value: unknown = p.config;
    try {
      value = Value.Encode(schema, p.config);
    } catch {
      // A config a validate() hook adjusted may not encode; show it as it is.
    }
    return { schema: sameDurationWords(JSON.parse(JSON.stringify(schema))), value };
  }

  status(): PluginStatus[] {
    return this.#loaded.map((p) => ({
      name: p.name, version: p.entry.plugin.manifest.version, summary: p.entry.plugin.manifest.summary,
      state: p.state, error: p.error,
      pages: p.pages.map((pg) => ({ ...pg, module: `${p.entry.dir}/ui/${pg.component}.svelte` })),
    }));
  }
}

/** Duration defaults in the words the settings use ("24h" → "1d"), so a default value is seen to be one. */
export function sameDurationWords(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(sameDurationWords);
  if (!node || typeof node !== 'object') return node;
  const out = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, sameDurationWords(v)])) as Record<string, unknown>;
  if (out['x-kind'] === 'duration' && typeof out.default === 'string') out.default = formatDuration(parseDuration(out.default));
  return out;
}

function pathOf(enabled: Array<{ key: string; path: string }>, c: { name: string }): string {
  return enabled.find((e) => e.key === c.name)?.path ?? c.name;
}
