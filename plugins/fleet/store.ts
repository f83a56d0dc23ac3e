import type { Knex } from 'knex';
import { redactUrl } from '../../core/redact.js';

export type CampaignKind = 'firmware' | 'configuration';
/** running: sending and following; stopped: a charger failed, the rest waits for resume or cancel; completed; cancelled. */
export type CampaignState = 'running' | 'stopped' | 'completed' | 'cancelled';
/**
 * pending: not sent yet (or waiting for the charger to come online); updating: UpdateFirmware accepted, following its
 * notifications until it boots with a new version; reboot-wait: RebootRequired, waiting for no session to run;
 * rebooting: Reset sent, waiting for its boot; done; rejected (the charger refused the key); failed; skipped.
 */
export type TargetState = 'pending' | 'updating' | 'reboot-wait' | 'rebooting' | 'done' | 'rejected' | 'failed' | 'skipped';

export const FINAL: ReadonlySet<TargetState> = new Set(['done', 'rejected', 'failed', 'skipped']);
/** States in which the charger is doing something the campaign follows, whatever the campaign's state. */
export const IN_FLIGHT: ReadonlySet<TargetState> = new Set(['updating', 'rebooting']);

/** Which chargers a campaign targets; every given criterion must match. */
export interface Selection {
  chargerIds?: string[];
  group?: string;
  vendor?: string;
  model?: string;
  firmwareVersion?: string;
}

export interface CampaignRow {
  id: number; kind: CampaignKind; name: string; state: CampaignState; selection: string; wave_size: number;
  file_id: number | null; firmware_url: string | null; retries: number | null; retry_interval_s: number | null;
  signature: string | null; signing_certificate: string | null;
  config_key: string | null; config_value: string | null; reboot: number | boolean;
  created_by: string; created_at: string; finished_at: string | null; stop_reason: string | null;
}

export interface TargetRow {
  campaign_id: number; charger_id: string; position: number; wave: number; state: TargetState;
  firmware_status: string | null; answer: string | null; old_version: string | null; new_version: string | null;
  error: string | null; note: string | null; waiting_since: string | null; sent_at: string | null; deadline_at: string | null;
  finished_at: string | null; token_hash: string | null; link_expires_at: string | null; downloads: number;
  request_id: number | null;
}

export interface FileRow {
  id: number; name: string; stored_path: string; size_bytes: number; sha256: string; uploaded_by: string; uploaded_at: string;
}

/** A firmware file as the API shows it. */
export interface FirmwareFile { id: number; name: string; sizeBytes: number; sha256: string; uploadedBy: string; uploadedAt: string }

/** One charger's part in a campaign, as the API shows it. */
export interface TargetView {
  chargerId: string;
  /** 0 is the canary of a firmware campaign. */
  wave: number;
  state: TargetState;
  /** Last FirmwareStatusNotification of the charger during this campaign. */
  firmwareStatus: string | null;
  /** The charger's answer to the configuration change: Accepted, RebootRequired, Rejected, NotSupported, UnknownComponent, UnknownVariable … */
  answer: string | null;
  oldVersion: string | null;
  newVersion: string | null;
  error: string | null;
  /** What it waits for, in words (offline, a running session). */
  note: string | null;
  sentAt: string | null;
  finishedAt: string | null;
  /** Requests made with its download link so far. */
  downloads: number;
}

export interface CampaignView {
  id: number; kind: CampaignKind; name: string; state: CampaignState; selection: Selection; waveSize: number;
  /** Firmware: the uploaded file, or the URL chargers download from (credentials redacted). */
  firmware: {
    file: FirmwareFile | null; url: string | null; retries: number | null; retryInterval: number | null;
    /** Whether the update carries a signature and signing certificate for the chargers to verify. */
    signed: boolean;
  } | null;
  configuration: { key: string; value: string; reboot: boolean } | null;
  createdBy: string; createdAt: string; finishedAt: string | null;
  /** Why it stopped or was cancelled. */
  stopReason: string | null;
  /** Chargers by state. */
  counts: Partial<Record<TargetState, number>>;
  /** The wave being sent, or null when none is. */
  currentWave: number | null;
  targets?: TargetView[];
}

export const fileView = (r: FileRow): FirmwareFile => ({
  id: Number(r.id), name: r.name, sizeBytes: Number(r.size_bytes), sha256: r.sha256, uploadedBy: r.uploaded_by, uploadedAt: r.uploaded_at,
});

export const targetView = (r: TargetRow): TargetView => ({
  chargerId: r.charger_id, wave: Number(r.wave), state: r.state, firmwareStatus: r.firmware_status ?? null, answer: r.answer ?? null,
  oldVersion: r.old_version ?? null, newVersion: r.new_version ?? null, error: r.error ?? null, note: r.note ?? null,
  sentAt: r.sent_at ?? null, finishedAt: r.finished_at ?? null, downloads: Number(r.downloads ?? 0),
});

/** The wave a campaign is working on: firmware, the first with a charger left to send or follow; configuration, the first with one to send. */
export function currentWave(kind: CampaignKind, targets: TargetRow[]): number | null {
  const open = targets.filter((t) => (kind === 'firmware' ? !FINAL.has(t.state) : t.state === 'pending')).map((t) => Number(t.wave));
  return open.length ? Math.min(...open) : null;
}

/** Campaigns and their chargers in the plugin's tables. */
export class FleetStore {
  constructor(private readonly db: Knex) {}

  campaign(id: number): Promise<CampaignRow | undefined> {
    return this.db<CampaignRow>('fleet_campaigns').where({ id }).first();
  }

  /** The newest campaigns first. */
  campaigns(limit = 200): Promise<CampaignRow[]> {
    const q = this.db<CampaignRow>('fleet_campaigns').orderBy('id', 'desc').limit(limit);
    return q;
  }

  /** Campaigns the engine must look at, oldest first: running ones, and others with a charger still updating or rebooting. */
  following(): Promise<CampaignRow[]> {
    return this.db<CampaignRow>('fleet_campaigns').where({ state: 'running' })
      .orWhereIn('id', this.db('fleet_targets').whereIn('state', [...IN_FLIGHT]).select('campaign_id'))
      .orderBy('id');
  }

  targets(campaignId: number): Promise<TargetRow[]> {
    return this.db<TargetRow>('fleet_targets').where({ campaign_id: campaignId }).orderBy('position');
  }

  /** Targets of a charger not finished yet, in campaigns that still follow chargers. */
  openTargetsOf(chargerId: string): Promise<Array<TargetRow & { kind: CampaignKind }>> {
    return this.db('fleet_targets as t').join('fleet_campaigns as c', 'c.id', 't.campaign_id')
      .where('t.charger_id', chargerId).whereNotIn('t.state', [...FINAL]).select('t.*', 'c.kind');
  }

  async updateTarget(campaignId: number, chargerId: string, patch: Partial<TargetRow>): Promise<void> {
    await this.db<TargetRow>('fleet_targets').where({ campaign_id: campaignId, charger_id: chargerId }).update(patch);
  }

  async updateCampaign(id: number, patch: Partial<CampaignRow>): Promise<void> {
    await this.db<CampaignRow>('fleet_campaigns').where({ id }).update(patch);
  }

  file(id: number): Promise<FileRow | undefined> {
    return this.db<FileRow>('fleet_files').where({ id }).first();
  }

  async view(c: CampaignRow, withTargets: boolean): Promise<CampaignView> {
    const targets = await this.targets(c.id);
    const counts: Partial<Record<TargetState, number>> = {};
    for (const t of targets) counts[t.state] = (counts[t.state] ?? 0) + 1;
    const file = c.file_id == null ? undefined : await this.file(c.file_id);
    return {
      id: Number(c.id), kind: c.kind, name: c.name, state: c.state, selection: JSON.parse(c.selection) as Selection, waveSize: Number(c.wave_size),
      firmware: c.kind === 'firmware' ? {
        file: file ? fileView(file) : null, url: c.firmware_url ? redactUrl(c.firmware_url) : null,
        retries: c.retries ?? null, retryInterval: c.retry_interval_s ?? null, signed: Boolean(c.signature && c.signing_certificate),
      } : null,
      configuration: c.kind === 'configuration' ? { key: c.config_key ?? '', value: c.config_value ?? '', reboot: Boolean(c.reboot) } : null,
      createdBy: c.created_by, createdAt: c.created_at, finishedAt: c.finished_at ?? null, stopReason: c.stop_reason ?? null,
      counts, currentWave: c.state === 'running' ? currentWave(c.kind, targets) : null,
      ...(withTargets ? { targets: targets.map(targetView) } : {}),
    };
  }
}
