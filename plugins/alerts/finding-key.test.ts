import { describe, expect, it } from 'vitest';
import type { Finding } from '../../core/events.js';
import { findingKey } from './finding-key.js';
import { chargerPlace } from './messages.js';

// What diagnostics emits: a FindingView, which carries its subKey beside the Finding fields.
const fault = (over: Partial<Finding> & { subKey?: string } = {}) => ({
  id: 1, check: 'connector-fault', chargerId: 'CP1', connectorId: 1, severity: 'warning' as const,
  message: 'Connector 1 reports GroundFailure', state: 'active' as const, since: '2026-03-01T10:00:00Z', clearedAt: null,
  subKey: 'GroundFailure', ...over,
});

describe('finding to alert key', () => {
  it('keys an alert by check, charger and connector', () => {
    expect(findingKey(fault())).toBe('finding:connector-fault:CP1:1');
    expect(findingKey(fault({ chargerId: null, connectorId: null, check: 'meter-unreachable' }))).toBe('finding:meter-unreachable::');
  });

  it('gives findings that differ only in their subKey the same alert', () => {
    expect(findingKey(fault({ id: 2, subKey: 'OtherError' }))).toBe(findingKey(fault()));
  });

  it('gives another connector, charger or check its own alert', () => {
    const keys = [fault(), fault({ connectorId: 2 }), fault({ chargerId: 'CP2' }), fault({ check: 'stuck-transaction' })].map(findingKey);
    expect(new Set(keys).size).toBe(4);
  });
});

describe('charger place in notices', () => {
  it('names the charger, its own name and the connector', () => {
    expect(chargerPlace('CP1', 'Garage', 2)).toBe('CP1 (Garage), connector 2');
  });

  it('leaves out a name that only repeats the id, and connector 0 (the whole charger)', () => {
    expect(chargerPlace('CP1', 'CP1', 0)).toBe('CP1');
    expect(chargerPlace('CP1', null, null)).toBe('CP1');
  });
});
