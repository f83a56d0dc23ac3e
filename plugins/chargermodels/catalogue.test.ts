import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogueError, MODELS_DIR, bugsFor, isSecurityKey, loadCatalogue, loadEntryFile, matchEntry, type LoadedEntry } from './catalogue.js';
import { compareVersions, firmwareMatches, patternMatches, versionOf } from './match.js';

const files = readdirSync(MODELS_DIR).filter((f) => f.endsWith('.yaml')).sort();
const dir = mkdtempSync(join(tmpdir(), 'chargermodels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function entry(over: Partial<LoadedEntry>): LoadedEntry {
  return { id: 'x', name: 'X', vendor: 'X', model: 'X', file: 'x.yaml', revision: '0', ...over };
}

describe('shipped catalogue', () => {
  it('loads every file in the folder without problems', () => {
    const { entries, errors } = loadCatalogue();
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(entries.size).toBe(files.length);
    expect(files.length).toBeGreaterThanOrEqual(4);
  });

  describe.each(files)('%s', (file) => {
    it('validates and names itself after its file', () => {
      expect(loadEntryFile(join(MODELS_DIR, file)).id).toBe(file.replace(/\.yaml$/, ''));
    });

    it('changes no security key and sends only values OCPP accepts', () => {
      const e = loadEntryFile(join(MODELS_DIR, file));
      for (const c of e.adopt?.configuration ?? []) {
        expect(isSecurityKey(c.key), c.key).toBe(false);
        expect(c.security, c.key).toBeUndefined();
      }
    });
  });
});

describe('the contributors\' example in the README', () => {
  it('is a valid entry with a unit fix and a known bug', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const example = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((y) => y.includes('\nid: acme-wallbox-2'));
    expect(example).toBeDefined();
    const e = loadEntryFile(write('acme-wallbox-2.yaml', example!));
    expect(e.units).toHaveLength(1);
    expect(bugsFor(e, '3.2.0').map((b) => b.advice)).toEqual([expect.stringContaining('3.4.1')]);
    expect(matchEntry([e], { vendor: 'ACME GmbH', model: 'AW2-22', firmwareVersion: '3.2.0' })?.id).toBe('acme-wallbox-2');
    expect(matchEntry([e], { vendor: 'ACME GmbH', model: 'AW2-22', firmwareVersion: '2.9' })).toBeNull();
  });
});

describe('a bad catalogue file', () => {
  it('is refused with the file and each bad key named', () => {
    const file = write('acme-one.yaml', [
      'id: acme-one', 'name: Acme One', 'vendor: Acme', 'model: One', 'colour: red',
      'adopt:', '  configuration:', '    - { key: MeterValueSampleInterval, value: 60, why: every minute for diagnostics }',
      'units:', '  - { measurand: Energy.Active.Import.Register, unit: MWh, when: missing, why: sends kWh without a unit }',
    ].join('\n'));
    let err: unknown;
    try { loadEntryFile(file); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CatalogueError);
    const message = (err as Error).message;
    expect(message).toContain(`${file}: colour: unknown key`);
    expect(message).toContain(`${file}: adopt.configuration[0].value: expected a string, got 60`);
    expect(message).toMatch(new RegExp(`${file}: units\\[0\\]\\.unit: expected one of Wh, kWh`));
  });

  it('must be named after its id, name a vendor, list a key once and give a bug its firmware', () => {
    const file = write('acme-two.yaml', [
      'id: acme-2', 'name: Acme Two', 'vendor: "*"', 'model: Two',
      'adopt:', '  configuration:',
      '    - { key: WebSocketPingInterval, value: "60", why: keeps the link open through NAT }',
      '    - { key: websocketpinginterval, value: "30", why: keeps the link open through NAT }',
      'bugs:', '  - { firmware: {}, summary: forgets its sessions after a reboot, advice: update to a newer firmware }',
    ].join('\n'));
    expect(() => loadEntryFile(file)).toThrow(CatalogueError);
    const problems = (() => { try { loadEntryFile(file); } catch (e) { return (e as CatalogueError).problems.map((p) => p.path); } return []; })();
    expect(problems).toEqual(['id', 'vendor', 'adopt.configuration[1].key', 'bugs[0].firmware']);
  });

  it('names a site folder that does not exist', () => {
    const missing = join(dir, 'no-such-folder');
    expect(loadCatalogue([missing]).errors.map((e) => e.message)).toEqual([`${missing}: (folder): is not a readable folder`]);
  });

  it('is reported by the folder load without hiding the good ones', () => {
    const site = mkdtempSync(join(dir, 'site-'));
    writeFileSync(join(site, 'good-one.yaml'), 'id: good-one\nname: Good\nvendor: Good\nmodel: One\n');
    writeFileSync(join(site, 'broken.yaml'), 'id: broken\nname: [unclosed\n');
    const { entries, errors } = loadCatalogue([site]);
    expect([...entries.keys()]).toEqual(['good-one']);
    expect(errors.map((e) => e.file)).toEqual([join(site, 'broken.yaml')]);
    expect(errors[0]!.problems[0]!.path).toBe('(yaml)');
  });
});

describe('matching a charger', () => {
  const keba = entry({ id: 'keba', vendor: 'Keba*', model: 'KC-P30*' });
  const kebaNew = entry({ id: 'keba-new', vendor: 'Keba*', model: 'KC-P30*', firmware: { from: '3.10' } });
  const kebaX = entry({ id: 'keba-x', vendor: 'Keba AG', model: 'KC-P30-*X*' });

  it('matches vendor and model in any case, * standing for any characters', () => {
    expect(matchEntry([keba], { vendor: 'KEBA AG', model: 'kc-p30-EC240422-E00', firmwareVersion: null })?.id).toBe('keba');
    expect(matchEntry([keba], { vendor: 'Keba', model: 'KC-P20-ES240030-000', firmwareVersion: null })).toBeNull();
    expect(matchEntry([keba], { vendor: null, model: 'KC-P30', firmwareVersion: null })).toBeNull();
  });

  it('prefers the most specific entry, then one naming the firmware', () => {
    const all = [keba, kebaNew, kebaX];
    expect(matchEntry(all, { vendor: 'Keba AG', model: 'KC-P30-EX240022-E0R', firmwareVersion: '3.10.16' })?.id).toBe('keba-x');
    expect(matchEntry(all, { vendor: 'Keba AG', model: 'KC-P30-EC240022-E0R', firmwareVersion: '3.10.16' })?.id).toBe('keba-new');
    expect(matchEntry(all, { vendor: 'Keba AG', model: 'KC-P30-EC240022-E0R', firmwareVersion: '3.9.2' })?.id).toBe('keba');
  });

  it('compares firmware ranges by the first dotted number and patterns as names', () => {
    expect(versionOf('R1.4.7-beta')).toEqual([1, 4, 7]);
    expect(versionOf('beta')).toBeNull();
    expect(compareVersions([1, 4], [1, 4, 0])).toBe(0);
    expect(firmwareMatches({ below: '1.5' }, 'v1.4.12')).toBe(true);
    expect(firmwareMatches({ below: '1.5' }, 'v1.5.0')).toBe(false);
    expect(firmwareMatches({ from: '1.10', below: '2' }, '1.9.99')).toBe(false);
    expect(firmwareMatches({ from: '1.10', below: '2' }, '1.10')).toBe(true);
    expect(firmwareMatches('4.*', '4.22-b3')).toBe(true);
    expect(firmwareMatches({ below: '9' }, null)).toBe(false);
  });

  it('lists the known bugs of the charger\'s firmware only', () => {
    const e = entry({ bugs: [
      { firmware: { below: '2.1' }, summary: 'Forgets its session on a reboot.', advice: 'Update to 2.1 or later.' },
      { firmware: '2.2.*', summary: 'Reports energy in kWh without a unit.', advice: 'Update to 2.3.' },
    ] });
    expect(bugsFor(e, '2.0.9').map((b) => b.advice)).toEqual(['Update to 2.1 or later.']);
    expect(bugsFor(e, '2.2.1').map((b) => b.advice)).toEqual(['Update to 2.3.']);
    expect(bugsFor(e, '2.3.0')).toEqual([]);
    expect(bugsFor(e, null)).toEqual([]);
  });
});

describe('hostile names', () => {
  it('never matches a name longer than OCPP allows, even against *', () => {
    expect(patternMatches('*', 'A'.repeat(100))).toBe(true);
    expect(patternMatches('*', 'A'.repeat(101))).toBe(false);
    expect(firmwareMatches('*', '1'.repeat(101))).toBe(false);
  });

  it('treats the charger\'s text as text: its *, dots and brackets are not patterns', () => {
    expect(patternMatches('Keba', 'K*')).toBe(false);
    expect(patternMatches('Keba', '.*')).toBe(false);
    expect(patternMatches('KC-P30', 'KC-P3[0]')).toBe(false);
    expect(patternMatches('KC.P30', 'KCxP30')).toBe(false);
    expect(patternMatches('KC(P30', 'KC(P30')).toBe(true);
  });

  it('does not pass look-alikes, control characters or extra text for a catalogued name', () => {
    expect(patternMatches('Keba', '\u212Aeba')).toBe(false); // Kelvin sign, which toLowerCase() makes a "k"
    expect(patternMatches('Keba', 'Ｋeba')).toBe(false);
    expect(patternMatches('Keba', 'Keba\u0000')).toBe(false);
    expect(patternMatches('Keba', 'Keba AG')).toBe(false);
    expect(patternMatches('Keba', 'xKeba')).toBe(false);
    expect(patternMatches('Keba', '  keba\t')).toBe(true); // padding some firmware sends
    expect(patternMatches('ABB', '')).toBe(false);
  });

  it('matches a pathological pattern against a long name quickly', () => {
    const started = performance.now();
    for (let i = 0; i < 1000; i++) patternMatches('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(100));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(patternMatches('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(100))).toBe(false);
  });
});
