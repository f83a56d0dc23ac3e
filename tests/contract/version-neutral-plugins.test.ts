import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Plugins speak to chargers through the core's neutral commands and hear neutral events: nothing under plugins/
 * may name an OCPP version, test which one a charger speaks, or send an OCPP action by name. A plugin that needs
 * something version-specific shows that a neutral command or event is missing from the core.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const PLUGINS = join(ROOT, 'plugins');

/** Action names of the session commands (remoteStart, remoteStop, unlock, reserve, cancelReservation): gone from plugins, comments included. */
const SESSION_ACTIONS = ['RemoteStartTransaction', 'RemoteStopTransaction', 'RequestStartTransaction', 'RequestStopTransaction', 'UnlockConnector', 'ReserveNow', 'CancelReservation'];

/** Every plugin source file: test files and test kits are left out, they play the charger. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : sources(path);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') && !d.name.endsWith('.d.ts') && d.name !== 'test-kit.ts' ? [path] : [];
  });
}

const VERSION = /ocpp\s*1\.6|ocpp\s*2\.0\.1|(?<![\d.])1\.6(?![\d.])|(?<![\d.])2\.0\.1(?![\d.])/i;

interface Findings {
  /** Version names in string and template literals (comments may explain what OCPP calls things). */
  versionNames: string[];
  /** Comparisons or switches on a charger's protocol. */
  protocolChecks: string[];
  /** The action of each chargers.send(...): its literal name, or '*' when chosen at run time. */
  sends: string[];
}

function scan(file: string): Findings {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: Findings = { versionNames: [], protocolChecks: [], sends: [] };
  const line = (n: ts.Node) => source.getLineAndCharacterOfPosition(n.getStart()).line + 1;
  const namesProtocol = (n: ts.Node) => (ts.isIdentifier(n) && n.text === 'protocol') || (ts.isPropertyAccessExpression(n) && n.name.text === 'protocol');
  const visit = (n: ts.Node): void => {
    if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) && VERSION.test(n.text)) {
      found.versionNames.push(`${line(n)}: ${n.text.slice(0, 80)}`);
    }
    if (ts.isBinaryExpression(n) && [ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken].includes(n.operatorToken.kind)
      && (namesProtocol(n.left) || namesProtocol(n.right))) found.protocolChecks.push(`${line(n)}: ${n.getText().slice(0, 80)}`);
    if (ts.isSwitchStatement(n) && namesProtocol(n.expression)) found.protocolChecks.push(`${line(n)}: switch (${n.expression.getText()})`);
    if (ts.isCallExpression(n) && ts.isPropertyAccessExpression(n.expression) && n.expression.name.text === 'send' && /(^|\.)chargers$/.test(n.expression.expression.getText())) {
      const action = n.arguments[1];
      found.sends.push(action && (ts.isStringLiteral(action) || ts.isNoSubstitutionTemplateLiteral(action)) ? action.text : '*');
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return found;
}

const files = sources(PLUGINS).map((path) => ({ path, name: relative(PLUGINS, path).split('\\').join('/') }));
const scans = new Map<string, Findings>();
const scanned = (path: string): Findings => scans.get(path) ?? scans.set(path, scan(path)).get(path)!;

describe('plugins are version-neutral', () => {
  it('finds the plugin sources it checks', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(files.map((f) => f.name)).toContain('reservations/reserve.ts');
  });

  it('names no OCPP version in code and never checks which version a charger speaks', () => {
    const bad = files.flatMap(({ path, name }) => {
      const f = scanned(path);
      return [
        ...f.versionNames.map((v) => `${name}:${v}`),
        ...f.protocolChecks.map((v) => `${name}:${v}`),
      ];
    });
    expect(bad).toEqual([]);
  });

  it('sends no OCPP action by name: every call goes through a neutral command', () => {
    const bad = files.flatMap(({ path, name }) => {
      return scanned(path).sends.map((a) => `${name} sends ${a === '*' ? 'an action chosen at run time' : a}`);
    });
    expect(bad).toEqual([]);
  });

  it('leaves remote start and stop, unlocking and reservations to the core\'s commands: no plugin names their actions', () => {
    const bad = files.flatMap(({ path, name }) => {
      const text = readFileSync(path, 'utf8');
      return SESSION_ACTIONS.filter((a) => new RegExp(`\\b${a}\\b`).test(text)).map((a) => `${name}: ${a}`);
    });
    expect(bad).toEqual([]);
  });

  it('catches each kind of breach in a sample, so a pass means something', () => {
    const sample = join(import.meta.dirname, 'fixtures', 'version-bound-plugin.ts.txt');
    const f = scan(sample);
    expect(f.versionNames).toHaveLength(2);
    expect(f.protocolChecks).toHaveLength(2);
    expect(f.sends).toEqual(['ReserveNow', '*']);
  });
});
