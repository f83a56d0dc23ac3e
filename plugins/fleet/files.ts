import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { ApiError } from '../../core/errors.js';
import type { CoreServices } from '../../core/services.js';
import { fileView, type FileRow, type FirmwareFile, type TargetRow } from './store.js';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A name safe as one path segment and in a download header. */
export function safeName(name: string): string {
  // A browser may send a whole path; only its last part names the file.
  const cleaned = (name.split(/[\\/]/).pop() ?? '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 120);
  return cleaned || 'firmware.bin';
}

// Once the charger says it has the file (or is past it), its link has done its job.
const PAST_DOWNLOAD = new Set(['Downloaded', 'Installing', 'Installed', 'InstallationFailed', 'InstallVerificationFailed', 'InstallRebooting']);

/** Firmware files on the appliance and the one-time links chargers fetch them with. */
export class FirmwareFiles {
  constructor(
    private readonly db: Knex,
    private readonly core: CoreServices,
    private readonly limits: () => { linkTtlMs: number; maxDownloads: number },
  ) {}

  /** Stores an uploaded file under <dataDir>/fleet/firmware with its sha256. */
  async store(name: string, data: Buffer, by: string): Promise<FirmwareFile> {
    const at = this.core.clock.iso();
    const sha256 = createHash('sha256').update(data).digest('hex');
    const rel = join('fleet', 'firmware', `${at.replace(/[:.]/g, '-')}-${sha256.slice(0, 12)}-${safeName(name)}`);
    await mkdir(join(this.core.dataDir, 'fleet', 'firmware'), { recursive: true });
    await writeFile(join(this.core.dataDir, rel), data);
    const [row] = await this.db('fleet_files').insert({
      name: safeName(name), stored_path: rel, size_bytes: data.length, sha256, uploaded_by: by, uploaded_at: at,
    }).returning('id');
    const id = Number(typeof row === 'object' && row !== null ? (row as { id: unknown }).id : row);
    return fileView((await this.db<FileRow>('fleet_files').where({ id }).first())!);
  }

  async list(): Promise<FirmwareFile[]> {
    return (await this.db<FileRow>('fleet_files').orderBy('id', 'desc')).map(fileView);
  }

  /** A new link for one charger of one campaign; the token is kept only as its hash. */
  issue(file: FileRow): { location: string; patch: Partial<TargetRow> } {
    const token = randomBytes(24).toString('base64url');
    const expires = new Date(this.core.clock.nowMs() + this.limits().linkTtlMs).toISOString();
    return {
      location: `${this.core.publicUrl}/api/fleet/files/${token}/${encodeURIComponent(safeName(file.name))}`,
      patch: { token_hash: hashToken(token), link_expires_at: expires, downloads: 0 },
    };
  }

  /**
   * The file a link may still fetch, counting this request. Refused when unknown (404), expired, used up,
   * (403), used up or no longer needed because its charger is past the download (409), as diagnostics upload links answer.
   */
  async claim(token: string): Promise<{ path: string; name: string; size: number }> {
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(token)) throw ApiError.notFound('download link');
    const hash = hashToken(token);
    const target = await this.db<TargetRow>('fleet_targets').where({ token_hash: hash }).first();
    if (!target) throw ApiError.notFound('download link');
    const gone = (why: string) => ApiError.conflict(`this download link ${why}`);
    if (target.state !== 'updating' || (target.firmware_status && PAST_DOWNLOAD.has(target.firmware_status))) throw gone('was used');
    if (Date.parse(target.link_expires_at ?? '') < this.core.clock.nowMs()) throw new ApiError(403, 'this download link has expired');
    // The count goes up before the file is read, in one statement, so parallel requests cannot overdraw it.
    const used = await this.db<TargetRow>('fleet_targets').where({ token_hash: hash }).where('downloads', '<', this.limits().maxDownloads)
      .increment('downloads', 1);
    if (!used) throw gone(`was used ${this.limits().maxDownloads} time(s) already`);
    const campaign = await this.db('fleet_campaigns').where({ id: target.campaign_id }).first('file_id') as { file_id: number | null } | undefined;
    const file = campaign?.file_id == null ? undefined : await this.db<FileRow>('fleet_files').where({ id: campaign.file_id }).first();
    if (!file) throw ApiError.notFound('firmware file');
    return { path: join(this.core.dataDir, file.stored_path), name: file.name, size: Number(file.size_bytes) };
  }
}
