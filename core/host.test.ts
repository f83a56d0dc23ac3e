import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { definePlugin } from './plugin.js';
import { ConfigError } from './config.js';
import { type TestApp, useApp } from '../tests/kit/index.js';
import type { RegistryEntry } from './host.js';

let t: TestApp | undefined;
const apps = useApp();

const order: string[] = [];
const entry = (plugin: RegistryEntry['plugin']): RegistryEntry => ({ plugin, dir: 'tests/plugins' });

const first = definePlugin({
  manifest: { name: 'first', version: '1.0.0', summary: 'starts first', config: Type.Object({}) },
  register(ctx) {
    ctx.route({ method: 'GET', path: '/first/ok', roles: ['viewer'], summary: 'ok', handler: () => ({ ok: true }) });
    return { start: async () => { order.push('start first'); }, stop: async () => { order.push('stop first'); } };
  },
});
const second = definePlugin({
  manifest: { name: 'second', version: '1.0.0', summary: 'needs first', needs: ['first'], config: Type.Object({}) },
  register(ctx) {
    ctx.on('charger.booted', () => { throw new Error('handler exploded'); });
    ctx.every('tick', 60_000, () => { order.push('tick second'); });
    return { start: async () => { order.push('start second'); }, stop: async () => { order.push('stop second'); } };
  },
});
const broken = definePlugin({
  manifest: { name: 'broken', version: '1.0.0', summary: 'fails to start', config: Type.Object({}) },
  register(ctx) {
    ctx.route({ method: 'GET', path: '/broken/ok', roles: ['viewer'], summary: 'never served', handler: () => ({ ok: true }) });
    ctx.on('charger.booted', () => { order.push('broken saw boot'); });
    return { start: async () => { throw new Error('cannot reach its peer'); } };
  },
});
const extraPlugins = { first: entry(first), second: entry(second), broken: entry(broken) };

describe('plugin host', () => {
  it('starts plugins in dependency order, stops them in reverse and runs their jobs', async () => {
    order.length = 0;
    t = await apps.start({ extraPlugins, config: { plugins: { second: {}, first: {} } } });
    expect(order).toEqual(['start first', 'start second']);
    await t.clock.advance(60_000);
    expect(order).toContain('tick second');
    await t.stop();
    t = undefined;
    expect(order.slice(-2)).toEqual(['stop second', 'stop first']);
  });

  it('isolates a plugin whose start fails: marked failed, its routes answer 503, the rest keep running', async () => {
    order.length = 0;
    t = await apps.start({ extraPlugins, config: { plugins: { first: {}, broken: {}, second: {} } } });
    const plugins = (await t.api('GET', '/plugins')).body;
    expect(plugins).toEqual(expect.arrayContaining([
      expect.objectContaining({ name: 'broken', state: 'failed', error: expect.stringContaining('cannot reach its peer') }),
      expect.objectContaining({ name: 'first', state: 'running' }),
      expect.objectContaining({ name: 'second', state: 'running' }),
    ]));
    expect((await t.api('GET', '/broken/ok')).status).toBe(503);
    expect((await t.api('GET', '/first/ok')).body).toEqual({ ok: true });
    expect((await t.api('GET', '/health', { token: null })).body.failedPlugins).toEqual(['broken']);
    // A failed plugin's handlers are gone; a throwing handler is reported as <plugin>/<event>.
    const failed = t.waitFor('plugin.failed', (e) => e.plugin === 'second');
    await (await t.chargePoint('CP1')).boot();
    expect(await failed).toMatchObject({ plugin: 'second', hook: 'charger.booted', error: 'handler exploded' });
    expect(order).not.toContain('broken saw boot');
  });

  it('refuses to boot when a needed plugin is not enabled', async () => {
    await expect(apps.start({ extraPlugins, config: { plugins: { second: {} } } })).rejects.toThrow(ConfigError);
    await expect(apps.start({ extraPlugins, config: { plugins: { second: {} } } })).rejects.toThrow(/plugins\.second: Plugin second needs first, which is not enabled/);
  });
});
