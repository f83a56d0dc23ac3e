import type { VariableRow } from './store.js';

/** The components the summary reads; the rest of a model is only listed. */
export const SUMMARY_COMPONENTS = [
  'ChargingStation', 'EVSE', 'Connector', 'SampledDataCtrlr', 'AlignedDataCtrlr', 'SmartChargingCtrlr', 'LocalAuthListCtrlr',
  'AuthCacheCtrlr', 'SecurityCtrlr', 'TxCtrlr', 'OCPPCommCtrlr', 'ISO15118Ctrlr', 'FirmwareCtrlr',
] as const;

/** What a charger says it can do, read from its stored device model. */
export interface DeviceModelSummary {
  /** The same in words, one sentence per topic, for people. */
  lines: Array<{ topic: string; text: string }>;
  evses: Array<{ evseId: number; maxPowerW: number | null; connectors: Array<{ connectorId: number; type: string | null }> }>;
  /** Most power the station (or its largest EVSE) delivers, W. */
  maxPowerW: number | null;
  /** Most current, A. */
  maxCurrentA: number | null;
  /** Measurands it can sample (the valuesList of its sampled-data variables). */
  measurandsOffered: string[];
  /** Measurands it sends during a transaction now. */
  measurandsSampled: string[];
  smartCharging: { enabled: boolean | null; rateUnits: string[]; maxProfiles: number | null; maxStackLevel: number | null; periodsPerSchedule: number | null } | null;
  localAuthList: { enabled: boolean | null; maxEntries: number | null } | null;
  authCache: { enabled: boolean | null; lifeTimeS: number | null } | null;
  securityProfile: number | null;
  txStartPoint: string[];
  txStopPoint: string[];
  heartbeatIntervalS: number | null;
  iso15118: { pncEnabled: boolean | null; certificateInstallation: boolean | null } | null;
}

type Pick = { instance?: string; type?: string; evseId?: number; connectorId?: number };

const lc = (s: string) => s.toLowerCase();
const bool = (v: string | null | undefined): boolean | null => {
  if (v === null || v === undefined) return null;
  return lc(v) === 'true' ? true : lc(v) === 'false' ? false : null;
};
const int = (v: string | number | null | undefined): number | null => {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};
const list = (v: string | null | undefined): string[] => (v ? v.split(',').map((x) => x.trim()).filter(Boolean) : []);

function duration(s: number): string {
  if (s % 3600 === 0 && s >= 3600) return `${s / 3600} h`;
  if (s % 60 === 0 && s >= 60) return `${s / 60} min`;
  return `${s} s`;
}

const watts = (w: number) => (w >= 1000 ? `${Math.round(w / 100) / 10} kW` : `${w} W`);
const yesNo = (b: boolean | null, yes: string, no: string, unknown: string) => (b === null ? unknown : b ? yes : no);

const PROFILES: Record<number, string> = {
  0: 'no security profile',
  1: 'basic authentication without TLS',
  2: 'TLS with basic authentication',
  3: 'TLS with client certificates',
};

/** Reads the summary from a charger's rows (at least those of SUMMARY_COMPONENTS). */
export function summarize(rows: VariableRow[], firmwareVersion: string | null = null): DeviceModelSummary {
  const find = (component: string, variable: string, p: Pick = {}): VariableRow | undefined => rows.find((r) =>
    lc(r.component) === lc(component) && lc(r.variable) === lc(variable) && lc(r.attribute_type) === lc(p.type ?? 'Actual')
    && (p.instance === undefined || lc(r.variable_instance) === lc(p.instance))
    && (p.evseId === undefined || Number(r.evse_id) === p.evseId) && (p.connectorId === undefined || Number(r.connector_id) === p.connectorId));
  const value = (component: string, variable: string, p: Pick = {}) => find(component, variable, p)?.value ?? null;
  const has = (component: string) => rows.some((r) => lc(r.component) === lc(component));
  /** A limit: the variable's maxLimit characteristic, else its MaxSet or Actual value. */
  const limit = (component: string, variable: string, p: Pick = {}) => {
    const r = find(component, variable, p);
    return int(r?.max_limit) ?? int(value(component, variable, { ...p, type: 'MaxSet' })) ?? int(r?.value);
  };

  // EVSEs and their connectors
  const evseIds = [...new Set(rows.filter((r) => Number(r.evse_id) > 0 && ['evse', 'connector'].includes(lc(r.component))).map((r) => Number(r.evse_id)))].sort((a, b) => a - b);
  const evses = evseIds.map((evseId) => {
    const connectorIds = [...new Set(rows.filter((r) => lc(r.component) === 'connector' && Number(r.evse_id) === evseId && Number(r.connector_id) > 0)
      .map((r) => Number(r.connector_id)))].sort((a, b) => a - b);
    return {
      evseId, maxPowerW: limit('EVSE', 'Power', { evseId }),
      connectors: connectorIds.map((connectorId) => ({
        connectorId, type: value('Connector', 'ConnectorType', { evseId, connectorId }) ?? value('Connector', 'Type', { evseId, connectorId }),
      })),
    };
  });
  const evsePowers = evses.map((e) => e.maxPowerW).filter((w): w is number => w !== null);
  const maxPowerW = limit('ChargingStation', 'Power') ?? (evsePowers.length ? Math.max(...evsePowers) : null);
  const maxCurrentA = limit('ChargingStation', 'CurrentImport') ?? limit('EVSE', 'CurrentImport') ?? limit('SmartChargingCtrlr', 'CompositeScheduleDefaultLimitAmps');

  const sampledVariables = ['TxStartedMeasurands', 'TxUpdatedMeasurands', 'TxEndedMeasurands'];
  const offered = new Set<string>();
  for (const v of sampledVariables) for (const m of list(find('SampledDataCtrlr', v)?.values_list)) offered.add(m);
  for (const m of list(find('AlignedDataCtrlr', 'Measurands')?.values_list)) offered.add(m);
  const sampled = list(value('SampledDataCtrlr', 'TxUpdatedMeasurands'));

  const smartCharging = has('SmartChargingCtrlr') ? {
    enabled: bool(value('SmartChargingCtrlr', 'Enabled')),
    rateUnits: list(value('SmartChargingCtrlr', 'RateUnit') ?? value('SmartChargingCtrlr', 'ChargingScheduleChargingRateUnit')),
    maxProfiles: limit('SmartChargingCtrlr', 'Entries', { instance: 'ChargingProfiles' }),
    maxStackLevel: int(value('SmartChargingCtrlr', 'ProfileStackLevel')),
    periodsPerSchedule: int(value('SmartChargingCtrlr', 'PeriodsPerSchedule')),
  } : null;
  const localAuthList = has('LocalAuthListCtrlr') ? {
    enabled: bool(value('LocalAuthListCtrlr', 'Enabled')), maxEntries: int(find('LocalAuthListCtrlr', 'Entries')?.max_limit),
  } : null;
  const authCache = has('AuthCacheCtrlr') ? {
    enabled: bool(value('AuthCacheCtrlr', 'Enabled')), lifeTimeS: int(value('AuthCacheCtrlr', 'LifeTime')),
  } : null;
  const securityProfile = int(value('SecurityCtrlr', 'SecurityProfile'));
  const txStartPoint = list(value('TxCtrlr', 'TxStartPoint'));
  const txStopPoint = list(value('TxCtrlr', 'TxStopPoint'));
  const heartbeatIntervalS = int(value('OCPPCommCtrlr', 'HeartbeatInterval'));
  const iso15118 = has('ISO15118Ctrlr') ? {
    pncEnabled: bool(value('ISO15118Ctrlr', 'PnCEnabled')),
    certificateInstallation: bool(value('ISO15118Ctrlr', 'V2GCertificateInstallationEnabled') ?? value('ISO15118Ctrlr', 'ContractCertificateInstallationEnabled')),
  } : null;

  // In words
  const lines: DeviceModelSummary['lines'] = [];
  const say = (topic: string, text: string) => lines.push({ topic, text });
  if (evses.length) {
    say('EVSEs', `${evses.length} EVSE${evses.length > 1 ? 's' : ''}: ${evses.map((e) => {
      const plugs = e.connectors.map((c) => `connector ${c.connectorId}${c.type ? ` (${c.type})` : ''}`).join(', ');
      return `EVSE ${e.evseId}${plugs ? ` with ${plugs}` : ''}${e.maxPowerW !== null ? `, up to ${watts(e.maxPowerW)}` : ''}`;
    }).join('; ')}.`);
  }
  if (maxPowerW !== null || maxCurrentA !== null) {
    say('Power', `Up to ${[maxPowerW !== null ? watts(maxPowerW) : null, maxCurrentA !== null ? `${maxCurrentA} A` : null].filter(Boolean).join(' and ')}.`);
  }
  if (offered.size || sampled.length) {
    say('Metering', `${offered.size ? `Can measure ${[...offered].join(', ')}.` : ''}${sampled.length ? `${offered.size ? ' ' : ''}Sends ${sampled.join(', ')} during a transaction.` : ''}`);
  }
  if (smartCharging) {
    const parts = [
      smartCharging.rateUnits.length ? `limits in ${smartCharging.rateUnits.join(' and ')}` : null,
      smartCharging.maxProfiles !== null ? `up to ${smartCharging.maxProfiles} profiles` : null,
      smartCharging.maxStackLevel !== null ? `stack levels 0–${smartCharging.maxStackLevel}` : null,
      smartCharging.periodsPerSchedule !== null ? `${smartCharging.periodsPerSchedule} periods per schedule` : null,
    ].filter(Boolean);
    say('Smart charging', `${yesNo(smartCharging.enabled, 'Enabled', 'Disabled', 'Present')}${parts.length ? `: ${parts.join(', ')}` : ''}.`);
  } else {
    say('Smart charging', 'Not reported (no SmartChargingCtrlr).');
  }
  if (localAuthList || authCache) {
    const l = localAuthList ? `Local authorization list ${yesNo(localAuthList.enabled, 'enabled', 'disabled', 'present')}${localAuthList.maxEntries !== null ? ` (up to ${localAuthList.maxEntries} cards)` : ''}` : 'No local authorization list';
    const c = authCache ? `authorization cache ${yesNo(authCache.enabled, 'enabled', 'disabled', 'present')}${authCache.lifeTimeS !== null ? ` (entries kept ${duration(authCache.lifeTimeS)})` : ''}` : 'no authorization cache';
    say('Authorization', `${l}; ${c}.`);
  }
  if (securityProfile !== null) say('Security', `Security profile ${securityProfile}: ${PROFILES[securityProfile] ?? 'unknown'}.`);
  if (txStartPoint.length || txStopPoint.length) {
    say('Transactions', `Starts a transaction at ${txStartPoint.join(', ') || '(not said)'}; stops it at ${txStopPoint.join(', ') || '(not said)'}.`);
  }
  if (heartbeatIntervalS !== null) say('Heartbeat', `Every ${duration(heartbeatIntervalS)}.`);
  if (firmwareVersion) say('Firmware', `Runs firmware ${firmwareVersion}.`);
  say('ISO 15118', iso15118
    ? `Present: Plug & Charge ${yesNo(iso15118.pncEnabled, 'enabled', 'disabled', 'not said')}, certificate installation ${yesNo(iso15118.certificateInstallation, 'enabled', 'disabled', 'not said')}.`
    : 'Not reported (no ISO15118Ctrlr).');

  return {
    lines, evses, maxPowerW, maxCurrentA, measurandsOffered: [...offered], measurandsSampled: sampled, smartCharging, localAuthList,
    authCache, securityProfile, txStartPoint, txStopPoint, heartbeatIntervalS, iso15118,
  };
}
