import { type CommandAnswer, type CommandRunner, neutral, type NeutralCommand, type Protocol, statusAnswer, type Translations } from './neutral.js';

export interface UpdateFirmwareInput {
  /** Where the charger downloads the firmware from (http, https or ftp URL). */
  location: string;
  /** ISO time from which the charger may download it. */
  retrieveAt: string;
  /** Download attempts before the charger gives up. */
  retries?: number;
  /** s between download attempts. */
  retryInterval?: number;
  /** Base64 signature of the firmware file; with signingCertificate, a signed update (1.6 SignedUpdateFirmware). */
  signature?: string;
  /** PEM X.509 certificate the firmware was signed with. */
  signingCertificate?: string;
}

/** A command whose progress the charger reports in notifications carrying the same requestId. */
export interface RequestAnswer extends CommandAnswer {
  /** The id the charger's status notifications name; null where the version has none (1.6 UpdateFirmware, GetDiagnostics). */
  requestId: number | null;
}

export interface GetLogInput {
  /** Where the charger uploads the log (http, https or ftp URL). */
  location: string;
  /** ISO time of the oldest entry wanted. */
  from?: string;
  /** ISO time of the newest entry wanted. */
  to?: string;
  kind: 'diagnostics' | 'security';
  /** Upload attempts before the charger gives up. */
  retries?: number;
  /** s between upload attempts. */
  retryInterval?: number;
}

export interface GetLogAnswer extends RequestAnswer {
  /** The file the charger will upload; null when it has no log to send. */
  fileName: string | null;
}

export interface DataTransferInput {
  vendorId: string;
  messageId?: string;
  /** Sent to 1.6 chargers as a string (JSON text unless already one); to 2.0.1 chargers as given. */
  data?: unknown;
}

export interface DataTransferAnswer extends CommandAnswer {
  /** What the charger sent back, if anything. */
  data: unknown;
}

/** Messages a charger can be asked to send now; logStatus and firmwareStatus report a running upload or update. */
export type TriggerName = 'boot' | 'status' | 'meterValues' | 'heartbeat' | 'logStatus' | 'firmwareStatus' | 'signCertificate';

export interface TriggerInput {
  message: TriggerName;
  /** Only for this connector (2.0.1: this EVSE); the whole charger when left out. */
  connectorId?: number;
}

export interface ReadSettingsInput {
  /** 1.6 configuration key names (mapped to 2.0.1 variables where one means the same), or Component.Variable. */
  keys: string[];
}

export interface ReadSettingsAnswer {
  /** Each setting the charger reported, by the key it was asked by. */
  values: Record<string, string | null>;
  /** Keys the charger does not know, or that have no 2.0.1 variable. */
  unknown: string[];
}

/** A command that also tells what it would send to a charger, so that a record of it can name that even when it fails. */
export type RecordedCommand<In, Out> = NeutralCommand<In, Out> & {
  wire(chargerId: string, input: In): Promise<{ action: string; request: unknown }>;
};

const TRIGGER_16: Record<TriggerName, string> = {
  boot: 'BootNotification', status: 'StatusNotification', meterValues: 'MeterValues', heartbeat: 'Heartbeat',
  logStatus: 'DiagnosticsStatusNotification', firmwareStatus: 'FirmwareStatusNotification',
  // A new charger certificate (SignCertificate); 1.6 asks for it with the security whitepaper's ExtendedTriggerMessage.
  signCertificate: 'SignChargePointCertificate',
};
const TRIGGER_201: Record<TriggerName, string> = { ...TRIGGER_16, logStatus: 'LogStatusNotification', signCertificate: 'SignChargingStationCertificate' };

/** 1.6 keys and the 2.0.1 device-model variable that holds the same setting (OCPP 2.0.1 part 2, appendix 3). */
const VARIABLE_OF_KEY: Record<string, [component: string, variable: string]> = {
  HeartbeatInterval: ['OCPPCommCtrlr', 'HeartbeatInterval'],
  MeterValueSampleInterval: ['SampledDataCtrlr', 'TxUpdatedInterval'],
  MeterValuesSampledData: ['SampledDataCtrlr', 'TxUpdatedMeasurands'],
  ClockAlignedDataInterval: ['AlignedDataCtrlr', 'Interval'],
  AuthorizationCacheEnabled: ['AuthCacheCtrlr', 'Enabled'],
  LocalAuthListEnabled: ['LocalAuthListCtrlr', 'Enabled'],
  LocalAuthorizeOffline: ['AuthCtrlr', 'LocalAuthorizeOffline'],
  ConnectionTimeOut: ['TxCtrlr', 'EVConnectionTimeOut'],
  WebSocketPingInterval: ['OCPPCommCtrlr', 'WebSocketPingInterval'],
};
const COMPONENT_VARIABLE = /^([A-Za-z0-9_-]{1,50})\.([A-Za-z0-9_-]{1,50})$/;

function variableOf(key: string): [string, string] | undefined {
  const known = VARIABLE_OF_KEY[key];
  if (known) return known;
  const m = COMPONENT_VARIABLE.exec(key);
  return m ? [m[1]!, m[2]!] : undefined;
}

const present = <T extends Record<string, unknown>>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * Request ids the charger's notifications name. Seconds since 2024 to start with, so that ids stay new after a
 * restart of the appliance, and counted up from there; they stay within the 32 bits chargers store until 2092.
 */
function requestIds(): () => number {
  let last = 0;
  return () => {
    last = Math.max(last + 1, Math.floor((Date.now() - Date.UTC(2024, 0, 1)) / 1000));
    return last;
  };
}

const readStatus = (reply: unknown) => (reply as { status?: unknown } | null)?.status;

/** Firmware updates, log uploads, vendor data, triggered messages and the settings read by maintenance probes. */
export function maintenanceCommands(runner: CommandRunner) {
  const nextRequestId = requestIds();
  const accepted = statusAnswer('AcceptedCanceled');
  const withId = (requestId: number) => (reply: unknown): RequestAnswer => ({ ...accepted(reply), requestId });

  /** A command that also tells what it sends (before sending, so that a failure can be recorded with it too). */
  function recorded<In, Out>(name: string, translations: Translations<In, Out>): RecordedCommand<In, Out> {
    const send = neutral(runner, name, translations);
    const wire = async (chargerId: string, input: In): Promise<{ action: string; request: unknown }> => {
      const protocol: Protocol = await runner.protocolOf(chargerId);
      const w = translations[protocol]?.(input);
      return { action: w?.action ?? name, request: w?.payload ?? input };
    };
    return Object.assign(send, { wire });
  }

  function signedFirmware(i: UpdateFirmwareInput, requestId: number) {
    return {
      requestId, ...present({ retries: i.retries, retryInterval: i.retryInterval }),
      firmware: { location: i.location, retrieveDateTime: i.retrieveAt, ...present({ signingCertificate: i.signingCertificate, signature: i.signature }) },
    };
  }

  return {
    updateFirmware: neutral<UpdateFirmwareInput, RequestAnswer>(runner, 'updateFirmware', {
      'ocpp1.6': (i) => {
        if (i.signature !== undefined && i.signingCertificate !== undefined) {
          const requestId = nextRequestId();
          return { action: 'SignedUpdateFirmware', payload: signedFirmware(i, requestId), answer: withId(requestId) };
        }
        // 1.6 UpdateFirmware has no answer but the receipt.
        return {
          action: 'UpdateFirmware', payload: { location: i.location, retrieveDate: i.retrieveAt, ...present({ retries: i.retries, retryInterval: i.retryInterval }) },
          answer: () => ({ accepted: true, status: 'Accepted', requestId: null }),
        };
      },
      'ocpp2.0.1': (i) => {
        const requestId = nextRequestId();
        return { action: 'UpdateFirmware', payload: signedFirmware(i, requestId), answer: withId(requestId) };
      },
    }),

    getLog: neutral<GetLogInput, GetLogAnswer>(runner, 'getLog', {
      'ocpp1.6': (i) => {
        if (i.kind === 'security') return getLog(i, nextRequestId());
        return {
          action: 'GetDiagnostics',
          payload: { location: i.location, ...present({ startTime: i.from, stopTime: i.to, retries: i.retries, retryInterval: i.retryInterval }) },
          answer: (reply) => {
            const fileName = (reply as { fileName?: unknown } | null)?.fileName;
            return { accepted: true, status: 'Accepted', requestId: null, fileName: typeof fileName === 'string' && fileName ? fileName : null };
          },
        };
      },
      'ocpp2.0.1': (i) => getLog(i, nextRequestId()),
    }),

    dataTransfer: neutral<DataTransferInput, DataTransferAnswer>(runner, 'dataTransfer', {
      'ocpp1.6': (i) => ({
        action: 'DataTransfer',
        payload: { vendorId: i.vendorId, ...present({ messageId: i.messageId, data: i.data === undefined || typeof i.data === 'string' ? i.data : JSON.stringify(i.data) }) },
        answer: dataAnswer,
      }),
      'ocpp2.0.1': (i) => ({ action: 'DataTransfer', payload: present({ vendorId: i.vendorId, messageId: i.messageId, data: i.data }), answer: dataAnswer }),
    }),

    trigger: recorded<TriggerInput, CommandAnswer>('trigger', {
      'ocpp1.6': (i) => ({
        action: i.message === 'signCertificate' ? 'ExtendedTriggerMessage' : 'TriggerMessage',
        payload: { requestedMessage: TRIGGER_16[i.message], ...present({ connectorId: i.connectorId }) }, answer: statusAnswer(),
      }),
      'ocpp2.0.1': (i) => ({
        action: 'TriggerMessage',
        payload: { requestedMessage: TRIGGER_201[i.message], ...(i.connectorId !== undefined ? { evse: { id: i.connectorId } } : {}) },
        answer: statusAnswer(),
      }),
    }),

    readSettings: recorded<ReadSettingsInput, ReadSettingsAnswer>('readSettings', {
      'ocpp1.6': (i) => ({
        action: 'GetConfiguration', payload: { key: i.keys },
        answer: (reply) => {
          const r = reply as { configurationKey?: Array<{ key: string; value?: string }>; unknownKey?: string[] } | null;
          const values: Record<string, string | null> = {};
          for (const k of r?.configurationKey ?? []) values[k.key] = k.value ?? null;
          return { values, unknown: r?.unknownKey ?? [] };
        },
      }),
      'ocpp2.0.1': (i) => {
        const asked = i.keys.map((key) => ({ key, cv: variableOf(key) })).filter((a): a is { key: string; cv: [string, string] } => a.cv !== undefined);
        const unmapped = i.keys.filter((k) => !variableOf(k));
        return {
          action: 'GetVariables',
          payload: { getVariableData: asked.map(({ cv }) => ({ component: { name: cv[0] }, variable: { name: cv[1] } })) },
          answer: (reply) => {
            const results = (reply as { getVariableResult?: Array<{ attributeStatus?: string; attributeValue?: string; component?: { name?: string }; variable?: { name?: string } }> } | null)?.getVariableResult ?? [];
            const values: Record<string, string | null> = {};
            const unknown = [...unmapped];
            for (const { key, cv } of asked) {
              // Matched by name, not position: a charger may answer in any order.
              const r = results.find((x) => x.component?.name === cv[0] && x.variable?.name === cv[1]);
              if (r?.attributeStatus === 'Accepted') values[key] = r.attributeValue ?? null;
              else unknown.push(key);
            }
            return { values, unknown };
          },
        };
      },
    }),
  };

  function getLog(i: GetLogInput, requestId: number) {
    return {
      action: 'GetLog',
      payload: {
        logType: i.kind === 'security' ? 'SecurityLog' : 'DiagnosticsLog', requestId, ...present({ retries: i.retries, retryInterval: i.retryInterval }),
        log: { remoteLocation: i.location, ...present({ oldestTimestamp: i.from, latestTimestamp: i.to }) },
      },
      answer: (reply: unknown): GetLogAnswer => {
        const fileName = (reply as { filename?: unknown } | null)?.filename;
        return { ...withId(requestId)(reply), fileName: typeof fileName === 'string' && fileName ? fileName : null };
      },
    };
  }
}

function dataAnswer(reply: unknown): DataTransferAnswer {
  const status = String(readStatus(reply) ?? 'Unknown');
  return { accepted: status === 'Accepted', status, data: (reply as { data?: unknown } | null)?.data ?? null };
}

