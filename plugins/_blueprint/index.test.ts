import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../tests/kit/index.js';

let t: TestApp | undefined;
const apps = useApp();

describe('blueprint plugin', () => {
  it('counts boots per charger in its own table and serves them on its route', async () => {
    t = await apps.start({ config: { plugins: { blueprint: { greeting: 'moin' } } } });
    const cp = await t.chargePoint('BP1');
    await cp.boot();
    await cp.boot();
    await t.app.bus.idle();
    const res = await t.api('GET', '/blueprint/hello');
    expect(res.body).toEqual({ message: 'moin from Test Site', boots: [{ chargerId: 'BP1', count: 2 }] });
    const plugins = (await t.api('GET', '/plugins')).body;
    expect(plugins[0].pages).toEqual([expect.objectContaining({ path: 'blueprint', module: 'plugins/_blueprint/ui/BlueprintPage.svelte' })]);
  });
});
