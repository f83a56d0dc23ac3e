import { accessSync, constants, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { AuditLog } from '../audit.js';
import { CoreConfigSchema, configFileOf } from '../config.js';
import { ApiError } from '../errors.js';
import type { EnabledSection, PluginHost, RegistryEntry } from '../host.js';
import { MASK, maskSecrets } from '../settings.js';
import type { ConfigProblem } from '../schema.js';
import type { Logger, RouteSpec } from '../types.js';
import { lineDiff, type DiffLine } from './diff.js';
import type { ConfigVersion, ConfigVersions } from './versions.js';
import type { Document } from 'yaml';
import { keepSecrets, maskedText, parseSite, sectionOf, withSection } from './yaml-edit.js';

export type SectionKind = 'core' | 'plugin' | 'adapter';

/** A part of the site config an installer edits as one form. */
export interface SettingsSection {
  /** Its config path: `ocpp`, `plugins.alerts`, `meters`. */
  path: string;
  kind: SectionKind;
  name: string;
  summary: string;
  /** Plugins and adapters: whether the site file enables it. Core sections always are. */
  enabled: boolean;
  state: string | null;
  /** A change is taken while running (plugins, adapters) or needs a restart (core). */
  applies: 'live' | 'restart';
  schema: unknown;
  /** As written in the file, secrets masked; null when absent. */
  value: unknown;
}

/** What checking a change found: problems by key path, the file's diff (secrets masked), how it would apply. */
export interface ChangeCheck {
  problems: ConfigProblem[];
  diff: DiffLine[];
  applies: 'live' | 'restart' | 'none';
}

export interface SiteSettingsDeps {
  env: NodeJS.ProcessEnv;
  parts: { plugins: Record<string, RegistryEntry>; adapters: Record<string, RegistryEntry> };
  host: PluginHost;
  versions: ConfigVersions;
  audit: AuditLog;
  log: Logger;
  /** Validates a whole site file as startup would. */
  check(text: string): { problems: ConfigProblem[]; enabled: EnabledSection[] };
  remount(owner: string, routes: RouteSpec[]): void;
  /** A config schema as the UI shows it (durations in words). */
  uiSchema(schema: unknown): unknown;
}

const CORE_SECTIONS = ['site', 'http', 'ocpp', 'storage', 'log'] as const;
// What belongs to this box (its port, certificates, database), not to the site: an import leaves them.
const BOX_SECTIONS: readonly string[] = ['http', 'storage'];

/** A section without the secrets another site's export masked, and their paths, to be set here. */
function withoutMasked(value: unknown, path: string): { value: unknown; masked: string[] } {
  const masked: string[] = [];
  const walk = (v: unknown, at: string): unknown => {
    if (typeof v === 'string') return v.includes(MASK) ? (masked.push(at), undefined) : v;
    if (Array.isArray(v)) return v.map((x, i) => walk(x, `${at}[${i}]`)).filter((x) => x !== undefined);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, `${at}.${k}`)]).filter(([, x]) => x !== undefined));
    }
    return v;
  };
  return { value: walk(value, path), masked };
}

/**
 * The site config file as the installer's console edits it: one section at a
 * time, checked like at startup, written keeping the file's comments, each
 * applied version kept to roll back to, plugins reconfigured without a
 * restart and core sections taken at the next one.
 */
export class SiteSettings {
  readonly #d: SiteSettingsDeps;
  readonly #file: string;
  /** The core sections as this process started with them: a file that differs needs a restart. */
  readonly #bootCore: string;
  #applying: Promise<unknown> = Promise.resolve();

  constructor(deps: SiteSettingsDeps, bootText: string) {
    this.#d = deps;
    this.#file = configFileOf(deps.env);
    this.#bootCore = this.#coreOf(bootText);
  }

  text(): string {
    return readFileSync(this.#file, 'utf8');
  }

  #coreOf(text: string): string {
    const doc = parseSite(text);
    return JSON.stringify(CORE_SECTIONS.map((s) => sectionOf(doc, [s]) ?? null));
  }

  /** Whether this process may change the file (a read-only mount, as in the Docker example with :ro, may not). */
  writable(): boolean {
    try {
      accessSync(this.#file, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  #writeFile(text: string): void {
    const tmp = `${this.#file}.new`;
    try {
      // Written beside and renamed: a power cut leaves the old file or the new one, never half of one.
      writeFileSync(tmp, text, { mode: 0o600 });
      try {
        renameSync(tmp, this.#file);
      } catch (err) {
        rmSync(tmp, { force: true });
        // A file mounted on its own (docker -v site.yaml:...) cannot be replaced, only rewritten.
        if (!['EBUSY', 'EXDEV', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
        writeFileSync(this.#file, text);
      }
    } catch (err) {
      rmSync(tmp, { force: true });
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw ApiError.conflict(`cannot write the site config ${this.#file} (${code}): it is read-only here; mount its folder writable to change settings from the UI, or edit the file and restart`);
    }
  }

  /** Whether the file holds core settings this process has not taken yet. */
  restartPending(): boolean {
    return this.#coreOf(this.text()) !== this.#bootCore;
  }

  /** A file edited by hand since the last version becomes a version of its own. */
  async sync(): Promise<ConfigVersion & { text: string }> {
    const text = this.text();
    const latest = await this.#d.versions.latest();
    if (latest?.text === text) return latest;
    const summary = latest ? 'changed in the config file' : 'the config file as first found';
    const id = await this.#d.versions.add('file', summary, text);
    return (await this.#d.versions.get(id))!;
  }

  /** The file as an export carries it: secrets masked. */
  exportText(): string {
    return maskedText(this.text());
  }

  /**
   * Another site's config, section by section: each one that checks clean is
   * taken, secrets it carried masked are left out to be set here, and this
   * box's own http and storage sections stay as they are.
   */
  async importText(text: string, actor: string, summary: string) {
    return this.#serial(async () => {
      const incoming = parseSite(text);
      if (incoming.errors.length) throw ApiError.badRequest([{ field: 'config', message: incoming.errors[0]!.message.split('\n')[0]! }]);
      const { paths, unknown } = this.#importable(incoming);
      let current = this.text();
      const imported: string[] = [];
      const secretsToSet: string[] = [];
      let pending = paths;
      let skipped: Array<{ path: string[]; problems: string[] }> = [];
      // A plugin another one needs may come later in the file: try again until a round takes nothing.
      for (let round = 0; round < 4 && pending.length; round += 1) {
        skipped = [];
        for (const path of pending) {
          const name = path.join('.');
          const { value, masked } = withoutMasked(keepSecrets(sectionOf(incoming, path), sectionOf(current, path)), name);
          const candidate = withSection(current, path, value);
          const mine = this.#d.check(candidate).problems.filter((p) => p.path === name || p.path.startsWith(`${name}.`) || p.path.startsWith(`${name}[`));
          if (mine.length) {
            skipped.push({ path, problems: mine.map((p) => `${p.path}: ${p.message}`) });
          } else {
            current = candidate;
            imported.push(name);
            secretsToSet.push(...masked);
          }
        }
        if (skipped.length === pending.length) break;
        pending = skipped.map((x) => x.path);
      }
      const version = imported.length ? (await this.#write(null, this.text(), current, actor, summary)).version : null;
      return {
        version, imported, secretsToSet,
        skipped: [...skipped.map((x) => ({ section: x.path.join('.'), problems: x.problems })), ...unknown],
      };
    });
  }

  /** The sections of another site's file this one can take. */
  #importable(text: Document): { paths: string[][]; unknown: Array<{ section: string; problems: string[] }> } {
    const paths: string[][] = [];
    const unknown: Array<{ section: string; problems: string[] }> = [];
    for (const name of CORE_SECTIONS) if (!BOX_SECTIONS.includes(name) && sectionOf(text, [name]) !== undefined) paths.push([name]);
    const plugins = sectionOf(text, ['plugins']);
    for (const key of plugins && typeof plugins === 'object' ? Object.keys(plugins) : []) {
      if (Object.hasOwn(this.#d.parts.plugins, key)) paths.push(['plugins', key]);
      else unknown.push({ section: `plugins.${key}`, problems: [`plugins.${key}: no such plugin in this build`] });
    }
    for (const key of Object.keys(this.#d.parts.adapters)) if (sectionOf(text, [key]) !== undefined) paths.push([key]);
    return { paths, unknown };
  }

  versions(): Promise<ConfigVersion[]> {
    return this.#d.versions.list();
  }

  /** A version with its text and the one before it, to show what it changed. */
  async version(id: number): Promise<(ConfigVersion & { text: string; previous: string | null }) | undefined> {
    const found = await this.#d.versions.get(id);
    if (!found) return undefined;
    return { ...found, previous: (await this.#d.versions.before(id))?.text ?? null };
  }

  async restarting(actor: string): Promise<void> {
    await this.#d.audit.record(actor, 'settings.restart', null, { restartPending: this.restartPending() });
    this.#d.log.info(`restart asked by ${actor}`);
  }

  sections(): SettingsSection[] {
    const text = parseSite(this.text());
    const { host, parts } = this.#d;
    const coreSchema = CoreConfigSchema.properties;
    const out: SettingsSection[] = CORE_SECTIONS.map((name) => ({
      path: name, kind: 'core', name, summary: String((coreSchema[name] as { description?: string }).description ?? ''),
      enabled: true, state: null, applies: 'restart', schema: this.#d.uiSchema(coreSchema[name]), value: maskSecrets(sectionOf(text, [name]) ?? {}),
    }));
    const add = (kind: SectionKind, key: string, entry: RegistryEntry, path: string[]) => {
      const value = sectionOf(text, path);
      out.push({
        path: path.join('.'), kind, name: key, summary: entry.plugin.manifest.summary, enabled: value !== undefined,
        state: value !== undefined ? host.state(entry.plugin.manifest.name) : null, applies: 'live',
        schema: this.#d.uiSchema(entry.plugin.manifest.config), value: value === undefined ? null : maskSecrets(value),
      });
    };
    for (const [key, entry] of Object.entries(parts.plugins)) add('plugin', key, entry, ['plugins', key]);
    for (const [key, entry] of Object.entries(parts.adapters)) add('adapter', key, entry, [key]);
    return out;
  }

  #pathOf(section: string): string[] {
    if ((CORE_SECTIONS as readonly string[]).includes(section)) return [section];
    const [head, name, ...rest] = section.split('.');
    if (head === 'plugins' && name && rest.length === 0 && Object.hasOwn(this.#d.parts.plugins, name)) return ['plugins', name];
    if (section && Object.hasOwn(this.#d.parts.adapters, section)) return [section];
    throw ApiError.notFound(`settings section ${section}`);
  }

  /** The file's text after a change: `null` removes (disables) the section; masked secrets keep their value. */
  #proposed(section: string, value: unknown): { path: string[]; before: string; after: string } {
    const path = this.#pathOf(section);
    const before = this.text();
    // Removing a core section means its defaults; a plugin's or adapter's, disabling it.
    const merged = value === null ? undefined : keepSecrets(value, sectionOf(before, path));
    return { path, before, after: withSection(before, path, merged) };
  }

  check(section: string, value: unknown): ChangeCheck {
    const { path, before, after } = this.#proposed(section, value);
    const { enabled: _enabled, ...checked } = this.#checkText(path, before, after);
    return checked;
  }

  /** The check of a new file, with the plugin sections it enables (what reconfigure takes). */
  #checkText(path: string[] | null, before: string, after: string): ChangeCheck & { enabled: EnabledSection[] } {
    const { problems, enabled } = this.#d.check(after);
    const diff = lineDiff(maskedText(before), maskedText(after));
    const core = path ? path.length === 1 && (CORE_SECTIONS as readonly string[]).includes(path[0]!) : this.#coreOf(before) !== this.#coreOf(after);
    return { problems, diff, applies: before === after ? 'none' : core ? 'restart' : 'live', enabled };
  }

  async apply(section: string, value: unknown, actor: string, baseVersion?: number) {
    return this.#serial(async () => {
      const { path, before, after } = this.#proposed(section, value);
      const summary = value === null ? `${section} removed` : `${section} changed`;
      return this.#write(path, before, after, actor, summary, baseVersion);
    });
  }

  async rollback(id: number, actor: string) {
    return this.#serial(async () => {
      const version = await this.#d.versions.get(id);
      if (!version) throw ApiError.notFound(`config version ${id}`);
      return this.#write(null, this.text(), version.text, actor, `rolled back to version ${id}`);
    });
  }

  // One change at a time: two installers saving at once must not interleave file writes and plugin restarts.
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#applying.then(fn, fn);
    this.#applying = next.catch(() => undefined);
    return next;
  }

  async #write(path: string[] | null, before: string, after: string, actor: string, summary: string, baseVersion?: number) {
    const current = await this.sync();
    if (baseVersion !== undefined && baseVersion !== current.id) {
      throw ApiError.conflict(`the site config changed since it was loaded (now version ${current.id}, by ${current.actor}); reload and apply again`);
    }
    const checked = this.#checkText(path, before, after);
    if (checked.problems.length) {
      throw ApiError.badRequest(checked.problems.map((p) => ({ field: p.path, message: p.message })));
    }
    if (checked.applies === 'none') return { version: current.id, applies: 'none' as const, started: [], removed: [], diff: [] };
    this.#writeFile(after);
    const version = await this.#d.versions.add(actor, summary, after);
    const changed = checked.diff.filter((l) => l.op !== ' ').length;
    await this.#d.audit.record(actor, 'settings.applied', path ? path.join('.') : null, { version, summary, changedLines: changed });
    this.#d.log.info(`site config version ${version} applied by ${actor}: ${summary}`);
    // Plugins take the new file now; core sections wait for a restart (restartPending).
    const { started, removed } = await this.#d.host.reconfigure(checked.enabled, this.#d.remount);
    return { version, applies: checked.applies, started, removed, diff: checked.diff, restartPending: this.restartPending() };
  }
}
