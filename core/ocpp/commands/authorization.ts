import { type CommandAnswer, type CommandRunner, neutral, statusAnswer } from './neutral.js';
import { configurationWire, countOf, flagOf, type SettingRef, type SettingValues, variablesWire } from './settings-read.js';

/** One card of a local list update. */
export interface LocalListEntry {
  idTag: string;
  /** How the card identifies (2.0.1 IdTokenEnumType: ISO14443, ISO15693, Central, ...); absent = ISO14443, an RFID card. */
  idTokenType?: string;
  /** What the charger answers it offline (Accepted, Blocked, Expired, Invalid, ConcurrentTx); absent = remove the card (Differential only). */
  status?: string;
  /** ISO; the charger refuses it after. */
  expiresAt?: string;
  /** The group card it belongs to. */
  parentIdTag?: string;
}

export interface LocalListInput {
  /** The version the charger holds once it applied this update. */
  version: number;
  /** true: replaces the whole list; false: adds, changes and removes the entries given. */
  full: boolean;
  entries: LocalListEntry[];
}

/** The list version a charger holds. */
export interface LocalListVersion {
  /** false: the charger has no local list. */
  supported: boolean;
  /** 0 = empty; null when unsupported. */
  version: number | null;
}

/** What the charger says of its local list and authorization cache; null where it did not say. */
export interface LocalAuthSettings {
  cacheEnabled: boolean | null;
  listEnabled: boolean | null;
  /** Most cards the list holds. */
  maxEntries: number | null;
  /** Most cards one update may carry; more go in several updates. */
  maxPerRequest: number | null;
}

const SETTINGS: SettingRef[] = [
  { key: 'AuthorizationCacheEnabled', component: 'AuthCacheCtrlr', variable: 'Enabled' },
  { key: 'LocalAuthListEnabled', component: 'LocalAuthListCtrlr', variable: 'Enabled' },
  // 2.0.1 tells the list's size only as the maxLimit of LocalAuthListCtrlr.Entries, in a report, so it stays unknown there.
  { key: 'LocalAuthListMaxLength', component: 'LocalAuthListCtrlr', variable: 'MaxEntries' },
  { key: 'SendLocalListMaxLength', component: 'LocalAuthListCtrlr', variable: 'ItemsPerMessage' },
];

const readSettings = (v: SettingValues): LocalAuthSettings => ({
  cacheEnabled: flagOf(v, 'AuthorizationCacheEnabled'), listEnabled: flagOf(v, 'LocalAuthListEnabled'),
  maxEntries: countOf(v, 'LocalAuthListMaxLength'), maxPerRequest: countOf(v, 'SendLocalListMaxLength'),
});

/** The actions that change a charger's local list, whichever version: a plugin keeping lists sees others' changes by these. */
const LIST_CHANGES = new Set(['SendLocalList']);
export const changesLocalList = (action: string) => LIST_CHANGES.has(action);

const entry16 = (e: LocalListEntry) => ({
  idTag: e.idTag,
  ...(e.status ? { idTagInfo: { status: e.status, ...(e.expiresAt ? { expiryDate: e.expiresAt } : {}), ...(e.parentIdTag ? { parentIdTag: e.parentIdTag } : {}) } } : {}),
});

// The group card has no type of its own; Central, as the authorize answer names it.
const entry201 = (e: LocalListEntry) => ({
  idToken: { idToken: e.idTag, type: e.idTokenType ?? 'ISO14443' },
  ...(e.status ? {
    idTokenInfo: {
      status: e.status, ...(e.expiresAt ? { cacheExpiryDateTime: e.expiresAt } : {}),
      ...(e.parentIdTag ? { groupIdToken: { idToken: e.parentIdTag, type: 'Central' } } : {}),
    },
  } : {}),
});

/** Local authorization lists and the authorization cache. */
export function authorizationCommands(runner: CommandRunner) {
  return {
    /** Sends a Full or Differential list update; Accepted, Failed, VersionMismatch (1.6 also NotSupported). */
    sendLocalList: neutral<LocalListInput, CommandAnswer>(runner, 'sendLocalList', {
      'ocpp1.6': (i) => ({
        action: 'SendLocalList',
        payload: { listVersion: i.version, updateType: i.full ? 'Full' : 'Differential', localAuthorizationList: i.entries.map(entry16) },
        answer: statusAnswer(),
      }),
      // 2.0.1 wants at least one entry when the list is given: an empty Full update leaves it out.
      'ocpp2.0.1': (i) => ({
        action: 'SendLocalList',
        payload: { versionNumber: i.version, updateType: i.full ? 'Full' : 'Differential', ...(i.entries.length ? { localAuthorizationList: i.entries.map(entry201) } : {}) },
        answer: statusAnswer(),
      }),
    }),

    /** The list version the charger holds (1.6 says -1 for no list at all). */
    getLocalListVersion: neutral<Record<string, never>, LocalListVersion>(runner, 'getLocalListVersion', {
      'ocpp1.6': () => ({
        action: 'GetLocalListVersion', payload: {},
        answer: (reply) => {
          const v = Number((reply as { listVersion?: unknown } | null)?.listVersion);
          return Number.isInteger(v) && v >= 0 ? { supported: true, version: v } : { supported: false, version: null };
        },
      }),
      'ocpp2.0.1': () => ({
        action: 'GetLocalListVersion', payload: {},
        answer: (reply) => {
          const v = Number((reply as { versionNumber?: unknown } | null)?.versionNumber);
          return Number.isInteger(v) && v >= 0 ? { supported: true, version: v } : { supported: false, version: null };
        },
      }),
    }),

    /** Empties the charger's authorization cache, so a revoked card is asked about again. */
    clearAuthCache: neutral<Record<string, never>, CommandAnswer>(runner, 'clearAuthCache', {
      'ocpp1.6': () => ({ action: 'ClearCache', payload: {}, answer: statusAnswer() }),
      'ocpp2.0.1': () => ({ action: 'ClearCache', payload: {}, answer: statusAnswer() }),
    }),

    /** Whether the charger caches cards and keeps a list, and how many cards it takes. */
    localAuthSettings: neutral<Record<string, never>, LocalAuthSettings>(runner, 'localAuthSettings', {
      'ocpp1.6': () => configurationWire(SETTINGS, readSettings),
      'ocpp2.0.1': () => variablesWire(SETTINGS.filter((s) => s.variable !== 'MaxEntries'), readSettings),
    }),
  };
}
