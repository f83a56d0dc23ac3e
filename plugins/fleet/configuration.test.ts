import { describe, expect, it } from 'vitest';
import { type TestApp, useApp } from '../../tests/kit/index.js';
import { boot201, station } from '../../tests/ocpp/v201-kit.js';
import type { CampaignView } from './store.js';
import { campaign, campaignWhen, simCharger, withFleet, type SimCharger } from './test-kit.js';

let t: TestApp;
const apps = useApp();

const byId = (c: CampaignView) => Object.fromEntries((c.targets ?? []).map((x) => [x.chargerId, x]));

describe('configuration campaigns', () => {
  it('records Accepted, RebootRequired and Rejected per charger, and reboots only where no session runs, the rest once its session stops', async () => {
    t = await apps.start(withFleet({ groups: { 'garage-a': ['CP1', 'CP2', 'CP3', 'CP4'] } }));
    const answers: Record<string, string> = { CP1: 'Accepted', CP2: 'RebootRequired', CP3: 'Rejected', CP4: 'RebootRequired' };
    const sims: Record<string, SimCharger> = {};
    for (const id of Object.keys(answers)) sims[id] = await simCharger(t, id, { configAnswer: () => answers[id]! });
    const tx = await sims.CP2!.startSession();

    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'configuration', selection: { group: 'garage-a' }, waveSize: 10, configuration: { key: 'MeterValueSampleInterval', value: '30', reboot: true } },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ name: 'MeterValueSampleInterval = 30', configuration: { key: 'MeterValueSampleInterval', value: '30', reboot: true } });

    // CP4 reboots at once and boots again; CP2 waits for its session.
    const waiting = byId(await campaignWhen(t, made.body.id, (c) => byId(c).CP4!.state === 'done' && byId(c).CP2!.state === 'reboot-wait', 10_000));
    expect(waiting.CP1).toMatchObject({ state: 'done', answer: 'Accepted' });
    expect(waiting.CP3).toMatchObject({ state: 'rejected', answer: 'Rejected', error: 'the charger answered Rejected' });
    expect(waiting.CP4).toMatchObject({ state: 'done', answer: 'RebootRequired' });
    expect(waiting.CP2).toMatchObject({ answer: 'RebootRequired', note: 'reboot waits for the session on connector 1 to end' });
    expect(sims.CP4!.resets).toBe(1);
    expect(sims.CP4!.boots).toBe(2);
    // Ticks go by: still no reset while the session runs.
    await new Promise((r) => setTimeout(r, 800));
    expect(sims.CP2!.resets).toBe(0);
    expect((await campaign(t, made.body.id)).state).toBe('running');
    expect(Object.values(sims).map((s) => s.configuration.MeterValueSampleInterval)).toEqual(['30', '30', undefined, '30']);
    expect(sims.CP1!.resets + sims.CP3!.resets).toBe(0);

    await sims.CP2!.stopSession(tx);
    const done = await campaignWhen(t, made.body.id, (c) => c.state === 'completed', 10_000);
    expect(byId(done).CP2).toMatchObject({ state: 'done', answer: 'RebootRequired', note: null });
    expect(sims.CP2!.resets).toBe(1);
    expect(done.counts).toEqual({ done: 3, rejected: 1 });
    const resets = t.seen('command.sent').filter((e) => e.action === 'Reset');
    expect(resets.map((e) => [e.chargerId, e.request, e.actor])).toEqual([['CP4', { type: 'Soft' }, 'plugin:fleet'], ['CP2', { type: 'Soft' }, 'plugin:fleet']]);
  }, 30_000);

  it('leaves a RebootRequired charger running without reboot: true, and refuses a secret key', async () => {
    t = await apps.start(withFleet());
    const sim = await simCharger(t, 'CP1', { configAnswer: () => 'RebootRequired' });
    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'configuration', selection: { chargerIds: ['CP1'] }, configuration: { key: 'HeartbeatInterval', value: '120' } },
    });
    const done = await campaignWhen(t, made.body.id, (c) => c.state === 'completed');
    expect(byId(done).CP1).toMatchObject({ state: 'done', answer: 'RebootRequired', note: 'takes effect at the charger\'s next reboot' });
    expect(sim.resets).toBe(0);

    const secret = await t.api('POST', '/fleet/campaigns', {
      body: { kind: 'configuration', selection: { chargerIds: ['CP1'] }, configuration: { key: 'AuthorizationKey', value: '0011223344556677' } },
    });
    expect(secret.status).toBe(400);
    expect(secret.body.errors).toEqual([{ field: 'configuration.key', message: 'AuthorizationKey holds a secret: set it per charger, not for a fleet' }]);
    expect(JSON.stringify(secret.body)).not.toContain('0011223344556677');
  }, 30_000);

  it('writes a key for OCPP 2.0.1 chargers as Component.Variable, checked when the campaign is made; an unknown variable is a rejection with why', async () => {
    t = await apps.start(withFleet());
    const sets: unknown[] = [];
    for (const id of ['CS1', 'CS2']) {
      const cp = await station(t, id);
      cp.handle('SetVariables', ({ params }) => {
        const d = params.setVariableData[0];
        sets.push([id, d]);
        const status = id === 'CS2' ? 'UnknownVariable' : 'Accepted';
        return { setVariableResult: [{ attributeStatus: status, component: d.component, variable: d.variable,
          ...(status === 'UnknownVariable' ? { attributeStatusInfo: { reasonCode: 'NotFound', additionalInfo: 'no such variable' } } : {}) }] };
      });
      await boot201(cp);
    }
    const old = await t.api('POST', '/fleet/campaigns', {
      body: { kind: 'configuration', selection: { chargerIds: ['CS1', 'CS2'] }, configuration: { key: 'HeartbeatInterval', value: '120' } },
    });
    expect(old.status).toBe(400);
    expect(old.body.errors).toEqual([{
      field: 'configuration.key', message: 'CS1, CS2: "HeartbeatInterval" is not an OCPP 2.0.1 key: write Component.Variable, e.g. OCPPCommCtrlr.HeartbeatInterval',
    }]);
    const malformed = await t.api('POST', '/fleet/campaigns', {
      body: { kind: 'configuration', selection: { chargerIds: ['CS1'] }, configuration: { key: 'OCPPCommCtrlr[.HeartbeatInterval', value: '120' } },
    });
    expect(malformed.body.errors[0]).toMatchObject({ field: 'configuration.key', message: expect.stringContaining('has an unclosed [ or a stray ]') });

    const made = await t.api<CampaignView>('POST', '/fleet/campaigns', {
      body: { kind: 'configuration', selection: { chargerIds: ['CS1', 'CS2'] }, configuration: { key: 'OCPPCommCtrlr.HeartbeatInterval', value: '120' } },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const done = await campaignWhen(t, made.body.id, (c) => c.state === 'completed');
    expect(byId(done).CS1).toMatchObject({ state: 'done', answer: 'Accepted' });
    expect(byId(done).CS2).toMatchObject({ state: 'rejected', answer: 'UnknownVariable', error: 'the charger answered UnknownVariable: NotFound: no such variable' });
    expect(sets).toEqual(['CS1', 'CS2'].map((id) => [id, {
      attributeType: 'Actual', attributeValue: '120', component: { name: 'OCPPCommCtrlr' }, variable: { name: 'HeartbeatInterval' },
    }]));
  }, 30_000);
});
