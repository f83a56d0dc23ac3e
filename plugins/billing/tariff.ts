import { parseDecimal, toNumber } from './decimal.js';
import type { TouWindow } from './tou.js';

export type TimeFeeMode = 'always' | 'charging' | 'idleAfterGrace';

/** A time-of-use window with its own prices; null = the tariff's base price. */
export interface TouPrice extends TouWindow {
  pricePerKwh: string | null;
  pricePerMinute: string | null;
}

/**
 * One version of a tariff, as stored (JSON in billing_tariff_versions.body).
 * Money and prices are decimal strings, gross (VAT included).
 */
export interface TariffDef {
  name: string;
  /** ISO 4217. */
  currency: string;
  pricePerKwh: string;
  pricePerMinute: string;
  sessionFee: string;
  /** When the time price runs: the whole session, only while drawing power, or only idle time past the grace period. */
  timeFeeMode: TimeFeeMode;
  /** idleAfterGrace: minutes of each idle stretch that are free. */
  graceMinutes: number;
  minimumAmount: string | null;
  maximumAmount: string | null;
  /** VAT share included in the prices, percent. */
  vatPct: string;
  timeOfUse: TouPrice[];
  chargerIds: string[];
  /** "CP1:2" = connector 2 of charger CP1. */
  connectorIds: string[];
  userIds: number[];
  /** Group (parent) idTags whose cards this tariff is for. */
  groupIdTags: string[];
}

/** A tariff as the API shows it: its current version plus identity. */
export interface TariffView {
  id: number;
  name: string;
  currency: string;
  pricePerKwh: number;
  pricePerMinute: number;
  sessionFee: number;
  timeFeeMode: TimeFeeMode;
  graceMinutes: number;
  minimumAmount: number | null;
  maximumAmount: number | null;
  vatPct: number;
  chargerIds: string[];
  connectorIds: string[];
  userIds: number[];
  groupIdTags: string[];
  isDefault: boolean;
  timeOfUse: Array<{ days: string[]; from: string; to: string; pricePerKwh: number; pricePerMinute: number }>;
  /** 1 for the first version; each edit adds one. */
  version: number;
  versionId: number;
  createdAt: string;
  updatedAt: string;
}

const num = (s: string) => toNumber(parseDecimal(s));

export function tariffView(id: number, isDefault: boolean, def: TariffDef, v: { id: number; version: number; createdAt: string; tariffCreatedAt: string }): TariffView {
  return {
    id, name: def.name, currency: def.currency,
    pricePerKwh: num(def.pricePerKwh), pricePerMinute: num(def.pricePerMinute), sessionFee: num(def.sessionFee),
    timeFeeMode: def.timeFeeMode, graceMinutes: def.graceMinutes,
    minimumAmount: def.minimumAmount === null ? null : num(def.minimumAmount),
    maximumAmount: def.maximumAmount === null ? null : num(def.maximumAmount),
    vatPct: num(def.vatPct),
    chargerIds: def.chargerIds, connectorIds: def.connectorIds, userIds: def.userIds, groupIdTags: def.groupIdTags,
    isDefault,
    // A window without its own price shows the base price it falls back to.
    timeOfUse: def.timeOfUse.map((w) => ({
      days: w.days, from: w.from, to: w.to,
      pricePerKwh: num(w.pricePerKwh ?? def.pricePerKwh), pricePerMinute: num(w.pricePerMinute ?? def.pricePerMinute),
    })),
    version: v.version, versionId: v.id, createdAt: v.tariffCreatedAt, updatedAt: v.createdAt,
  };
}
