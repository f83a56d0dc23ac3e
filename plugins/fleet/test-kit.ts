import { createHash } from 'node:crypto';
import type { StartOptions, TestApp, TestChargePoint } from '../../tests/kit/index.js';
import type { CampaignView } from './store.js';

/** Short timings so campaigns move in test time; each test overrides what it needs. */
export function withFleet(fleet: Record<string, unknown> = {}, dataDir?: string): StartOptions {
  return {
    config: { plugins: { fleet: { checkEvery: '200ms', installTimeout: '10s', offlineWait: '10s', ...fleet } } },
    ...(dataDir ? { dataDir } : {}),
  };
}

export interface SimOptions {
  vendor?: string;
  model?: string;
  /** Firmware it runs at first (default 1.0.0). */
  version?: string;
  /** Firmware it boots with after an update (default 2.0.0). */
  newVersion?: string;
  /** How its update ends badly: the download refused, or the install. */
  fail?: 'DownloadFailed' | 'InstallationFailed';
  /** Its answer to ChangeConfiguration (default Accepted). */
  configAnswer?: (key: string, value: string) => string;
  /** Hold the update after Installing until release() is called (to stop the app mid-install). */
  holdInstall?: boolean;
  /** Speak OCPP 2.0.1: its boot, UpdateFirmware and notifications (with the requestId) in that version. */
  v201?: boolean;
}

/** What a signed update carried (1.6 SignedUpdateFirmware, 2.0.1 UpdateFirmware with a signature). */
export interface SignedRequest { requestId: number; signature?: string; signingCertificate?: string }

/**
 * A charger that updates itself like real ones do: it answers UpdateFirmware, downloads the file over HTTP from the
 * location it was given, reports Downloading, Downloaded, Installing, Installed (or fails), then reconnects and boots
 * with its new firmware version. It answers ChangeConfiguration and Reset (a soft reset reconnects and boots again).
 */
export async function simCharger(t: TestApp, id: string, o: SimOptions = {}) {
  let version = o.version ?? '1.0.0';
  let release: () => void = () => undefined;
  const held = new Promise<void>((r) => { release = r; });
  const sim = {
    id,
    cp: undefined as unknown as TestChargePoint,
    /** Every location it was sent, and what each download gave: HTTP status, bytes, sha256. */
    locations: [] as string[],
    downloads: [] as Array<{ status: number; size: number; sha256: string }>,
    statuses: [] as string[],
    /** The requestId and signature parts of each request that had a requestId. */
    requests: [] as SignedRequest[],
    configuration: {} as Record<string, string>,
    resets: 0,
    /** How many times it booted. */
    boots: 0,
    get version() { return version; },
    release: () => release(),
    /** Its next updates succeed (the installer fixed what failed). */
    fix: () => { delete o.fail; },
    /** A new socket without a boot, as chargers reconnect after the appliance restarted. */
    reconnect: () => connect(),
    async boot() {
      sim.boots += 1;
      if (o.v201) {
        return sim.cp.call('BootNotification', {
          reason: 'FirmwareUpdate', chargingStation: { vendorName: o.vendor ?? 'TestVendor', model: o.model ?? 'TestModel', firmwareVersion: version },
        }) as Promise<{ status: string; interval: number; currentTime: string }>;
      }
      return sim.cp.boot({ firmwareVersion: version, chargePointVendor: o.vendor ?? 'TestVendor', chargePointModel: o.model ?? 'TestModel' });
    },
    /** A firmware status; signed 1.6 updates report by SignedFirmwareStatusNotification, with the requestId as 2.0.1 does. */
    async status(status: string, requestId?: number, signed16 = false) {
      sim.statuses.push(status);
      await sim.cp.call(signed16 ? 'SignedFirmwareStatusNotification' : 'FirmwareStatusNotification', { status, ...(requestId !== undefined ? { requestId } : {}) });
    },
    /** The charger restarts: a new socket, a BootNotification. */
    async restart() {
      // Like a charger that finishes what it was sending before it goes down.
      await sim.cp.close({ code: 1000, awaitPending: true });
      await connect();
      await sim.boot();
    },
    async startSession(idTag = 'CARD-1'): Promise<number> {
      await sim.cp.call('StatusNotification', { connectorId: 1, status: 'Charging', errorCode: 'NoError' });
      const r = await sim.cp.call('StartTransaction', { connectorId: 1, idTag, meterStart: 0, timestamp: t.clock.iso() }) as { transactionId: number };
      return r.transactionId;
    },
    async stopSession(transactionId: number) {
      await sim.cp.call('StopTransaction', { transactionId, meterStop: 5000, timestamp: t.clock.iso() });
      await sim.cp.call('StatusNotification', { connectorId: 1, status: 'Available', errorCode: 'NoError' });
    },
  };

  async function update(location: string, requestId?: number, signed16 = false) {
    const status = (s: string) => sim.status(s, requestId, signed16);
    await status('Downloading');
    let ok = false;
    try {
      const res = await fetch(location);
      const bytes = Buffer.from(await res.arrayBuffer());
      sim.downloads.push({ status: res.status, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      ok = res.ok;
    } catch {
      sim.downloads.push({ status: 0, size: 0, sha256: '' });
    }
    if (!ok || o.fail === 'DownloadFailed') return status('DownloadFailed');
    await status('Downloaded');
    if (requestId !== undefined && sim.requests.at(-1)?.signature) await status('SignatureVerified');
    await status('Installing');
    if (o.holdInstall) await held;
    if (o.fail === 'InstallationFailed') return status('InstallationFailed');
    await status('Installed');
    version = o.newVersion ?? '2.0.0';
    await sim.restart();
  }

  type Signed = { requestId: number; firmware: { location: string; signature?: string; signingCertificate?: string } };
  const takeSigned = (p: Signed, signed16: boolean) => {
    const { location, signature, signingCertificate } = p.firmware;
    sim.locations.push(location);
    sim.requests.push({ requestId: p.requestId, ...(signature ? { signature } : {}), ...(signingCertificate ? { signingCertificate } : {}) });
    setTimeout(() => void update(location, p.requestId, signed16).catch(() => undefined), 10);
    return { status: 'Accepted' };
  };

  function attach(cp: TestChargePoint) {
    cp.handle('UpdateFirmware', ({ params }: { params: { location: string } | Signed }) => {
      if (o.v201) return takeSigned(params as Signed, false);
      const { location } = params as { location: string };
      sim.locations.push(location);
      setTimeout(() => void update(location).catch(() => undefined), 10);
      return {};
    });
    cp.handle('SignedUpdateFirmware', ({ params }: { params: Signed }) => takeSigned(params, true));
    cp.handle('ChangeConfiguration', ({ params }: { params: { key: string; value: string } }) => {
      const status = o.configAnswer?.(params.key, params.value) ?? 'Accepted';
      if (status === 'Accepted' || status === 'RebootRequired') sim.configuration[params.key] = params.value;
      return { status };
    });
    cp.handle('Reset', () => {
      sim.resets += 1;
      setTimeout(() => void sim.restart().catch(() => undefined), 20);
      return { status: 'Accepted' };
    });
  }

  async function connect() {
    sim.cp = await t.chargePoint(id, o.v201 ? { protocol: 'ocpp2.0.1', strict: true } : {});
    attach(sim.cp);
  }

  await connect();
  await sim.boot();
  return sim;
}

export type SimCharger = Awaited<ReturnType<typeof simCharger>>;

/** A campaign as GET /api/fleet/campaigns/{id} answers it. */
export async function campaign(t: TestApp, id: number): Promise<CampaignView> {
  const res = await t.api<CampaignView>('GET', `/fleet/campaigns/${id}`);
  if (res.status !== 200) throw new Error(`campaign ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The campaign once it meets the condition (polled); fails after ms. */
export async function campaignWhen(t: TestApp, id: number, ok: (c: CampaignView) => boolean, ms = 15_000): Promise<CampaignView> {
  const end = Date.now() + ms;
  for (;;) {
    const c = await campaign(t, id);
    if (ok(c)) return c;
    if (Date.now() > end) throw new Error(`campaign ${id} did not get there in ${ms} ms: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Uploads bytes as a firmware file and answers its id. */
export async function upload(t: TestApp, bytes: Buffer, name = 'fw-2.0.0.bin'): Promise<{ id: number; sha256: string; sizeBytes: number }> {
  const res = await fetch(`${t.url}/api/fleet/firmware?name=${encodeURIComponent(name)}`, {
    method: 'POST', body: new Uint8Array(bytes), headers: { authorization: `Bearer ${await t.login()}`, 'content-type': 'application/octet-stream' },
  });
  const body = await res.json() as { id: number; sha256: string; sizeBytes: number };
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`);
  return body;
}
