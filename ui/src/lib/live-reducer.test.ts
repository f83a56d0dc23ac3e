import { describe, expect, it } from 'vitest';
import type { Charger } from './api.ts';
import { applyEvent, emptyMarks, MAX_SAMPLES, mergeChargerList, mergeStoredSession, seedCharger, type LiveData } from './live-reducer.ts';

const empty = (): LiveData => ({ loaded: false, chargers: {}, sessions: {}, meters: {} });
const charger = (id: string, over: Partial<Charger> = {}): Charger => ({
  id, name: null, online: false, approved: true, vendor: 'ACME', model: 'X1', firmwareVersion: '1.0', protocol: 'ocpp1.6',
  lastSeenAt: '2026-03-01T09:00:00Z', connectors: [{ connectorId: 1, status: 'Available', errorCode: 'NoError' }], ...over,
});
const NOW = Date.parse('2026-03-01T10:00:00Z');

describe('live reducer', () => {
  it('shows a charger it has not heard of at once and asks for the list once it has one', () => {
    const s = empty();
    const m = emptyMarks();
    expect(applyEvent(s, m, 'charger.connected', { chargerId: 'CP1', at: '2026-03-01T10:00:00Z' }, NOW)).toEqual({ refetch: false });
    expect(s.chargers.CP1).toMatchObject({ online: true, lastSeenAt: '2026-03-01T10:00:00Z' });
    s.loaded = true;
    expect(applyEvent(s, m, 'connector.status', { chargerId: 'CP2', connectorId: 2, status: 'Charging' }, NOW)).toEqual({ refetch: true });
    expect(s.chargers.CP2!.connectors).toEqual([{ connectorId: 2, status: 'Charging', errorCode: null }]);
  });

  it('keeps connectors in order and patches the one an event names', () => {
    const s = empty();
    const m = emptyMarks();
    mergeChargerList(s, m, [charger('CP1')], m.seq);
    const same = s.chargers.CP1!;
    applyEvent(s, m, 'connector.status', { chargerId: 'CP1', connectorId: 0, status: 'Available', errorCode: 'NoError' }, NOW);
    applyEvent(s, m, 'connector.status', { chargerId: 'CP1', connectorId: 1, status: 'Faulted', errorCode: 'GroundFailure' }, NOW);
    expect(s.chargers.CP1).toBe(same);
    expect(same.connectors.map((k) => [k.connectorId, k.status, k.errorCode])).toEqual([[0, 'Available', 'NoError'], [1, 'Faulted', 'GroundFailure']]);
  });

  it('lets an answer requested before an event keep only what events do not carry', () => {
    const s = empty();
    const m = emptyMarks();
    const mark = m.seq;
    applyEvent(s, m, 'charger.connected', { chargerId: 'CP1', at: '2026-03-01T10:00:00Z' }, NOW);
    seedCharger(s, m, charger('CP1', { name: 'Garage', online: false }), mark);
    expect(s.chargers.CP1).toMatchObject({ name: 'Garage', online: true, vendor: 'ACME', lastSeenAt: '2026-03-01T10:00:00Z' });
    seedCharger(s, m, charger('CP1', { online: false }), m.seq);
    expect(s.chargers.CP1!.online).toBe(false);
  });

  it('drops chargers the list no longer has, unless an event named them since the request', () => {
    const s = empty();
    const m = emptyMarks();
    mergeChargerList(s, m, [charger('CP1'), charger('CP2')], m.seq);
    const mark = m.seq;
    applyEvent(s, m, 'charger.heartbeat', { chargerId: 'CP2', at: '2026-03-01T10:00:00Z' }, NOW);
    mergeChargerList(s, m, [], mark);
    expect(Object.keys(s.chargers)).toEqual(['CP2']);
    expect(s.loaded).toBe(true);
  });

  it('follows a session from start through samples to stop', () => {
    const s = empty();
    const m = emptyMarks();
    applyEvent(s, m, 'session.started', { chargerId: 'CP1', connectorId: 1, transactionId: 7, idTag: 'AB12', meterStartWh: 1000, at: '2026-03-01T10:00:00Z' }, NOW);
    // A sample without a transaction id goes to the connector's running session; one without a time gets nowMs.
    applyEvent(s, m, 'meter.sampled', { source: 'ocpp', chargerId: 'CP1', connectorId: 1, powerW: 7000, energyImportWh: 1500, at: 'not a time' }, NOW);
    expect(s.sessions[7]).toMatchObject({ powerW: 7000, energyWh: 500, samples: [{ t: NOW, powerW: 7000 }] });
    applyEvent(s, m, 'session.stopped', { chargerId: 'CP1', transactionId: 7, energyWh: 650, at: '2026-03-01T11:00:00Z' }, NOW);
    expect(s.sessions[7]).toMatchObject({ stoppedAt: '2026-03-01T11:00:00Z', energyWh: 650, powerW: 0 });
    applyEvent(s, m, 'meter.sampled', { source: 'ocpp', chargerId: 'CP1', transactionId: 7, powerW: 9000, at: '2026-03-01T11:01:00Z' }, NOW);
    expect(s.sessions[7]!.samples).toHaveLength(1);
  });

  it('keeps the latest reading of a site meter and the last samples of a session only', () => {
    const s = empty();
    const m = emptyMarks();
    applyEvent(s, m, 'meter.sampled', { source: 'modbus', meterId: 'grid', powerW: 3200, energyImportWh: 5, at: '2026-03-01T10:00:00Z' }, NOW);
    expect(s.meters.grid).toEqual({ meterId: 'grid', at: '2026-03-01T10:00:00Z', powerW: 3200, energyImportWh: 5 });
    applyEvent(s, m, 'session.started', { chargerId: 'CP1', connectorId: 1, transactionId: 1, idTag: 'T', at: '2026-03-01T10:00:00Z' }, NOW);
    for (let i = 0; i < MAX_SAMPLES + 5; i++) applyEvent(s, m, 'meter.sampled', { chargerId: 'CP1', transactionId: 1, powerW: i, at: new Date(NOW + i).toISOString() }, NOW);
    expect(s.sessions[1]!.samples).toHaveLength(MAX_SAMPLES);
    expect(s.sessions[1]!.samples[0]!.powerW).toBe(5);
  });

  it('ignores payloads without a charger, and events it does not follow', () => {
    const s = empty();
    const m = emptyMarks();
    expect(applyEvent(s, m, 'charger.connected', { at: 'x' }, NOW)).toEqual({ refetch: false });
    expect(applyEvent(s, m, 'charger.connected', 'nonsense', NOW)).toEqual({ refetch: false });
    applyEvent(s, m, 'alert.raised', { chargerId: 'CP1' }, NOW);
    expect(s).toEqual(empty());
  });

  it('starts a session chart at the stored meter values: whole-charger power, summed phases, the energy register', () => {
    const s = empty();
    const m = emptyMarks();
    applyEvent(s, m, 'session.started', { chargerId: 'CP1', connectorId: 1, transactionId: 3, idTag: 'T', meterStartWh: 100, at: '2026-03-01T10:00:00Z' }, NOW);
    const session = s.sessions[3]!;
    session.energyWh = 0;
    const v = (at: string, measurand: string, value: number, phase = '', location = '') => ({ at, measurand, value, phase, location });
    mergeStoredSession(session, {
      stoppedAt: null, energyWh: null,
      meterValues: [
        v('2026-03-01T10:01:00Z', 'Power.Active.Import', 2000, 'L1'), v('2026-03-01T10:01:00Z', 'Power.Active.Import', 2100, 'L2'),
        v('2026-03-01T10:02:00Z', 'Power.Active.Import', 4500),
        v('2026-03-01T10:02:00Z', 'Power.Active.Import', 99, '', 'Inlet'),
        v('2026-03-01T10:02:00Z', 'Energy.Active.Import.Register', 400),
      ],
    });
    expect(session.samples.map((p) => p.powerW)).toEqual([4100, 4500]);
    expect(session).toMatchObject({ powerW: 4500, energyWh: 300 });
  });
});
