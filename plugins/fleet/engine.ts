import { errorMessage } from '../../core/errors.js';
import type { ConfigurationAnswer } from '../../core/ocpp/commands/configuration.js';
import { sendErrorOf } from '../../core/ocpp/send-error.js';
import { formatDuration } from '../../core/schema.js';
import type { CoreServices } from '../../core/services.js';
import type { Logger } from '../../core/types.js';
import type { FleetConfig } from './config.js';
import type { FirmwareFiles } from './files.js';
import { FINAL, IN_FLIGHT, type CampaignRow, type FleetStore, type TargetRow } from './store.js';

/** Firmware statuses that end an update as failed (including the signed-firmware ones). */
export const FIRMWARE_FAILED: ReadonlySet<string> = new Set(['DownloadFailed', 'InstallationFailed', 'InstallVerificationFailed', 'InvalidSignature', 'SignatureError']);
/** A charger just connected may not have attached its handlers or booted yet: calls wait this long. */
const CONNECT_GRACE_MS = 1000;
const ACTOR = 'plugin:fleet';

export interface EngineDeps {
  core: CoreServices;
  log: Logger;
  store: FleetStore;
  files: FirmwareFiles;
  config: () => FleetConfig;
}

/**
 * Moves campaigns on: sends each wave, follows each charger's notifications and boots, applies deadlines.
 * Everything runs one step at a time on one chain, so an event never races a send for the same row.
 */
export function createEngine(d: EngineDeps) {
  const { core, store, log } = d;
  const clock = core.clock;
  const connectedAt = new Map<string, number>();
  let chain: Promise<unknown> = Promise.resolve();
  let queued = false;
  let closed = false;
  let progressed = false;

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.catch((err: unknown) => log.error(`step failed: ${errorMessage(err)}`));
    return run;
  };

  function kick(): void {
    if (queued || closed) return;
    queued = true;
    void serial(async () => {
      queued = false;
      progressed = false;
      await step();
      // A wave that just ended lets the next one go without waiting for the timer.
      if (progressed) kick();
    });
  }

  const nowIso = () => clock.iso();

  async function setTarget(t: TargetRow, patch: Partial<TargetRow>): Promise<void> {
    if (patch.state && patch.state !== t.state) progressed = true;
    if (patch.state && FINAL.has(patch.state)) patch.finished_at = nowIso();
    Object.assign(t, patch);
    await store.updateTarget(t.campaign_id, t.charger_id, patch);
  }

  const fail = (t: TargetRow, error: string) => setTarget(t, { state: 'failed', error, note: null });

  /** Offline: wait, up to offlineWait from when it was first found offline. */
  async function waitOnline(t: TargetRow): Promise<void> {
    const waitMs = d.config().offlineWait;
    if (!t.waiting_since) {
      await setTarget(t, { waiting_since: nowIso(), note: `offline; waiting up to ${formatDuration(waitMs)} for it to come back` });
    } else if (clock.nowMs() - Date.parse(t.waiting_since) >= waitMs) {
      await fail(t, `offline for more than ${formatDuration(waitMs)}`);
    }
  }

  const ready = (id: string) => core.chargers.isOnline(id) && clock.nowMs() - (connectedAt.get(id) ?? 0) >= CONNECT_GRACE_MS;

  /** Why a call failed, in words; offline means "wait again". */
  function callFailure(action: string, err: unknown): string | 'offline' {
    const e = sendErrorOf(err);
    if (e?.kind === 'offline') return 'offline';
    if (e?.kind === 'timeout') return `did not answer ${action} in time`;
    if (e?.kind === 'callerror') return `refused ${action}: ${e.code}`;
    return `${action} failed: ${errorMessage(err)}`;
  }

  async function sendFirmware(c: CampaignRow, t: TargetRow): Promise<void> {
    const charger = await core.chargers.get(t.charger_id);
    const installMs = d.config().installTimeout;
    let location = c.firmware_url ?? '';
    const patch: Partial<TargetRow> = {};
    if (c.file_id != null) {
      const file = await store.file(c.file_id);
      if (!file) return fail(t, 'the firmware file of this campaign is gone');
      const link = d.files.issue(file);
      location = link.location;
      Object.assign(patch, link.patch);
    }
    // Written before the call: a charger that starts downloading at once must find its link valid.
    await setTarget(t, {
      ...patch, state: 'updating', old_version: charger?.firmwareVersion ?? null, firmware_status: null, new_version: null, request_id: null,
      sent_at: nowIso(), deadline_at: new Date(clock.nowMs() + installMs).toISOString(), waiting_since: null, error: null,
      note: 'UpdateFirmware sent; waiting for the download',
    });
    const signed = c.signature && c.signing_certificate ? { signature: c.signature, signingCertificate: c.signing_certificate } : {};
    try {
      const answer = await core.chargers.commands.updateFirmware(t.charger_id, {
        location, retrieveAt: nowIso(), ...(c.retries != null ? { retries: c.retries } : {}),
        ...(c.retry_interval_s != null ? { retryInterval: c.retry_interval_s } : {}), ...signed,
      }, { actor: ACTOR });
      if (!answer.accepted) return fail(t, `the charger answered the firmware update ${answer.status}`);
      if (answer.requestId !== null) await setTarget(t, { request_id: answer.requestId });
    } catch (err) {
      const why = callFailure('UpdateFirmware', err);
      if (why === 'offline') await setTarget(t, { state: 'pending', token_hash: null, sent_at: null, deadline_at: null, note: null });
      else await fail(t, why);
    }
  }

  async function sendConfiguration(c: CampaignRow, t: TargetRow): Promise<void> {
    let answer: ConfigurationAnswer;
    try {
      answer = await core.chargers.commands.setConfiguration(t.charger_id, { key: c.config_key!, value: c.config_value ?? '' }, { actor: ACTOR });
    } catch (err) {
      // A key this charger's version cannot take is never sent: a refusal, with the reason.
      if (sendErrorOf(err)?.kind === 'invalid') return setTarget(t, { state: 'rejected', error: `not sent: ${errorMessage(err)}`, sent_at: nowIso(), waiting_since: null, note: null });
      const why = callFailure('the configuration change', err);
      return why === 'offline' ? undefined : fail(t, why);
    }
    const base = { answer: answer.status, sent_at: nowIso(), waiting_since: null, note: null };
    if (answer.accepted && !answer.rebootRequired) return setTarget(t, { ...base, state: 'done' });
    if (answer.rebootRequired) {
      if (!c.reboot) return setTarget(t, { ...base, state: 'done', note: 'takes effect at the charger\'s next reboot' });
      await setTarget(t, { ...base, state: 'reboot-wait' });
      return reboot(t);
    }
    return setTarget(t, { ...base, state: 'rejected', error: `the charger answered ${answer.status}${answer.reason ? `: ${answer.reason}` : ''}` });
  }

  /** A Soft Reset, only while no session runs at the charger; otherwise it waits for the session to stop. */
  async function reboot(t: TargetRow): Promise<void> {
    if (!ready(t.charger_id)) return core.chargers.isOnline(t.charger_id) ? undefined : waitOnline(t);
    const running = await core.transactions.openAtCharger(t.charger_id);
    if (running.length) {
      const note = `reboot waits for the session on connector ${running.map((s) => s.connectorId).join(', ')} to end`;
      if (t.note !== note) await setTarget(t, { note, waiting_since: null });
      return;
    }
    try {
      const reset = await core.chargers.commands.reset(t.charger_id, {}, { actor: ACTOR });
      if (!reset.accepted) return fail(t, `the charger answered Reset ${reset.status}`);
      await setTarget(t, {
        state: 'rebooting', note: 'Reset sent; waiting for its boot', waiting_since: null,
        deadline_at: new Date(clock.nowMs() + d.config().installTimeout).toISOString(),
      });
    } catch (err) {
      const why = callFailure('Reset', err);
      if (why !== 'offline') await fail(t, why);
    }
  }

  async function send(c: CampaignRow, t: TargetRow): Promise<void> {
    if (!ready(t.charger_id)) {
      if (!core.chargers.isOnline(t.charger_id)) await waitOnline(t);
      return;
    }
    if (c.kind === 'firmware') await sendFirmware(c, t);
    else await sendConfiguration(c, t);
  }

  async function stopCampaign(c: CampaignRow, targets: TargetRow[], reason: string): Promise<void> {
    for (const t of targets) if (t.state === 'pending') await setTarget(t, { state: 'skipped', note: 'not sent: the campaign stopped' });
    c.state = 'stopped';
    await store.updateCampaign(c.id, { state: 'stopped', stop_reason: reason });
    log.warn(`campaign ${c.id} stopped: ${reason}`);
  }

  function deadlineWords(c: CampaignRow, t: TargetRow): string {
    const within = formatDuration(d.config().installTimeout);
    if (t.state === 'rebooting') return `did not boot again within ${within} of the Reset`;
    return `no boot with a new firmware version within ${within} of UpdateFirmware (last status: ${t.firmware_status ?? 'none'})`;
  }

  async function advance(c: CampaignRow): Promise<void> {
    const targets = await store.targets(c.id);
    const now = clock.nowMs();
    for (const t of targets) {
      if (IN_FLIGHT.has(t.state) && t.deadline_at && Date.parse(t.deadline_at) <= now) await fail(t, deadlineWords(c, t));
    }
    if (c.state !== 'running') return;
    const failed = targets.find((t) => t.state === 'failed');
    if (c.kind === 'firmware' && failed) return stopCampaign(c, targets, `${failed.charger_id} failed: ${failed.error ?? 'unknown'}`);
    for (const t of targets) if (t.state === 'reboot-wait') await reboot(t);
    // Firmware: a wave goes once the one before is finished; configuration: once the one before has answered.
    const open = targets.filter((t) => (c.kind === 'firmware' ? !FINAL.has(t.state) : t.state === 'pending'));
    if (open.length) {
      const wave = Math.min(...open.map((t) => Number(t.wave)));
      for (const t of targets) if (Number(t.wave) === wave && t.state === 'pending') await send(c, t);
      const nowFailed = targets.find((t) => t.state === 'failed');
      if (c.kind === 'firmware' && nowFailed) return stopCampaign(c, targets, `${nowFailed.charger_id} failed: ${nowFailed.error ?? 'unknown'}`);
    }
    if (targets.every((t) => FINAL.has(t.state))) {
      c.state = 'completed';
      await store.updateCampaign(c.id, { state: 'completed', finished_at: nowIso() });
      progressed = true;
    }
  }

  async function step(): Promise<void> {
    for (const c of await store.following()) {
      if (closed) return;
      await advance(c);
    }
  }

  /**
   * A firmware status moves only the open firmware entry of the charger that sent it, and not when it names
   * another update than the one this campaign asked for (a late notification of an earlier one).
   */
  const firmwareStatus = (chargerId: string, status: string, requestId: number | null) => serial(async () => {
    for (const t of await store.openTargetsOf(chargerId)) {
      if (t.kind !== 'firmware' || t.state !== 'updating') continue;
      if (requestId !== null && t.request_id != null && Number(t.request_id) !== requestId) continue;
      if (FIRMWARE_FAILED.has(status)) await setTarget(t, { firmware_status: status, state: 'failed', error: `the charger reported ${status}`, note: null });
      else if (status === 'Installed') await setTarget(t, { firmware_status: status, note: 'installed; waiting for its boot with the new version' });
      else await setTarget(t, { firmware_status: status, note: null });
    }
    kick();
  });

  const booted = (chargerId: string, firmwareVersion: string | null) => serial(async () => {
    for (const t of await store.openTargetsOf(chargerId)) {
      if (t.kind === 'configuration' && t.state === 'rebooting') await setTarget(t, { state: 'done', note: null });
      if (t.kind !== 'firmware' || t.state !== 'updating') continue;
      if (firmwareVersion && firmwareVersion !== t.old_version) await setTarget(t, { state: 'done', new_version: firmwareVersion, note: null });
      else if (t.firmware_status === 'Installed') await fail(t, `reported Installed but booted with the old firmware version ${firmwareVersion ?? '(none)'}`);
    }
    kick();
  });

  function connected(chargerId: string): void {
    connectedAt.set(chargerId, clock.nowMs());
    setTimeout(kick, CONNECT_GRACE_MS + 50).unref();
  }

  return {
    kick, serial, firmwareStatus, booted, connected,
    async close(): Promise<void> {
      closed = true;
      await chain.catch(() => undefined);
    },
  };
}

export type Engine = ReturnType<typeof createEngine>;
