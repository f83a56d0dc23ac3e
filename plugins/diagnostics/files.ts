import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { ApiError, errorMessage } from '../../core/errors.js';
import { countRows, type Page } from '../../core/http/paging.js';
import type { CoreServices } from '../../core/services.js';
import { parseMultipart } from './multipart.js';

/** A row of diagnostics_files: one request and its upload. */
export interface FileRow {
  id: number;
  charger_id: string;
  token_hash: string;
  requested_by: string;
  requested_at: string;
  expires_at: string;
  state: DiagnosticsFile['state'];
  charger_status: string | null;
  file_name: string | null;
  stored_path: string | null;
  size_bytes: number | null;
  content_type: string | null;
  uploaded_at: string | null;
  error: string | null;
  /** Null in rows from before FTP uploads: http. */
  via: 'http' | 'ftp' | null;
  contacted_at: string | null;
  request_id: number | null;
}

/** A diagnostics log asked of a charger, and the file it uploaded. */
export interface DiagnosticsFile {
  id: number;
  chargerId: string;
  requestedBy: string;
  requestedAt: string;
  /** requested = waiting for the upload; uploaded = the file is here; failed / none (charger had nothing) / expired. */
  state: 'requested' | 'uploaded' | 'failed' | 'none' | 'expired';
  /** Last DiagnosticsStatusNotification of the charger for it (Uploading, Uploaded, UploadFailed). */
  chargerStatus: string | null;
  fileName: string | null;
  sizeBytes: number | null;
  contentType: string | null;
  uploadedAt: string | null;
  error: string | null;
  /** How the charger was asked to upload: http (PUT/POST to this appliance) or ftp (the embedded FTP server). */
  via: 'http' | 'ftp';
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/** A name safe as one path segment: letters, digits, dot, dash, underscore; never "." or "..". */
export function safeName(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_').slice(0, 120);
  return cleaned || 'file';
}

export class DiagnosticsFiles {
  #db: Knex;
  #core: CoreServices;
  #tokenTtlMs: () => number;

  constructor(db: Knex, core: CoreServices, tokenTtlMs: () => number) {
    this.#db = db;
    this.#core = core;
    this.#tokenTtlMs = tokenTtlMs;
  }

  view(r: FileRow): DiagnosticsFile {
    const expired = r.state === 'requested' && Date.parse(r.expires_at) < this.#core.clock.nowMs();
    return {
      id: r.id, chargerId: r.charger_id, requestedBy: r.requested_by, requestedAt: r.requested_at,
      state: expired ? 'expired' : r.state, chargerStatus: r.charger_status ?? null,
      fileName: r.file_name ?? null, sizeBytes: r.size_bytes == null ? null : Number(r.size_bytes),
      contentType: r.content_type ?? null, uploadedAt: r.uploaded_at ?? null,
      error: expired && !r.error ? this.#noUpload(r) : r.error ?? null,
      via: r.via ?? 'http',
    };
  }

  /** Why a request expired: in words an operator can act on. */
  #noUpload(r: FileRow): string {
    const within = `no upload arrived within ${Math.round(this.#tokenTtlMs() / 60_000)} min of the request`;
    if (r.via !== 'ftp') return `${within}; the charger never used the upload link`;
    return r.contacted_at
      ? `${within}; the charger logged in to the FTP server at ${r.contacted_at} but sent no file`
      : `${within}; the charger never connected to the FTP server (is diagnostics.ftp.publicUrl reachable from the charger's network?)`;
  }

  /** Creates a one-time FTP user and password for a charger; the location carries them, as chargers expect. */
  async requestFtp(chargerId: string, requestedBy: string, ftpBaseUrl: string): Promise<{ id: number; location: string }> {
    const user = `diag${randomBytes(6).toString('hex')}`;
    const password = randomBytes(18).toString('base64url');
    const now = this.#core.clock.nowMs();
    const [row] = await this.#db('diagnostics_files').insert({
      charger_id: chargerId, token_hash: hash(`ftp:${user}:${password}`), requested_by: requestedBy, requested_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.#tokenTtlMs()).toISOString(), state: 'requested', via: 'ftp',
    }).returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
    const base = new URL(ftpBaseUrl);
    return { id, location: `${base.protocol}//${user}:${password}@${base.host}/` };
  }

  /** The request an FTP login belongs to; throws (the login is refused) for a wrong, used or expired one. */
  async ftpLogin(user: string, password: string): Promise<FileRow> {
    const row = await this.#db<FileRow>('diagnostics_files').where({ token_hash: hash(`ftp:${user}:${password}`) }).first();
    if (!row) throw new Error('unknown user or password');
    if (row.state !== 'requested') throw new Error('this upload location was already used');
    if (Date.parse(row.expires_at) < this.#core.clock.nowMs()) throw new Error('this upload location has expired');
    await this.#db<FileRow>('diagnostics_files').where({ id: row.id }).update({ contacted_at: this.#core.clock.iso() });
    return row;
  }

  /** Creates a one-time upload link for a charger; returns the row id and the link. */
  async request(chargerId: string, requestedBy: string, baseUrl: string): Promise<{ id: number; location: string }> {
    const token = randomBytes(24).toString('base64url');
    const now = this.#core.clock.nowMs();
    const [row] = await this.#db('diagnostics_files').insert({
      charger_id: chargerId, token_hash: hash(token), requested_by: requestedBy, requested_at: new Date(now).toISOString(),
      expires_at: new Date(now + this.#tokenTtlMs()).toISOString(), state: 'requested',
    }).returning('id');
    const id = typeof row === 'object' ? (row as { id: number }).id : (row as number);
    return { id, location: `${baseUrl.replace(/\/+$/, '')}/api/diagnostics/upload/${token}` };
  }

  async settle(id: number, patch: { state?: DiagnosticsFile['state']; fileName?: string | null; error?: string | null; requestId?: number | null }): Promise<DiagnosticsFile> {
    const changes: Partial<FileRow> = {};
    if (patch.requestId != null) changes.request_id = patch.requestId;
    if (patch.state) changes.state = patch.state;
    if (patch.fileName !== undefined) changes.file_name = patch.fileName;
    if (patch.error !== undefined) changes.error = patch.error;
    if (Object.keys(changes).length) await this.#db<FileRow>('diagnostics_files').where({ id }).update(changes);
    return this.view((await this.#db<FileRow>('diagnostics_files').where({ id }).first())!);
  }

  /** The row of a one-time upload token that may still be used; the upload route asks before reading the body. */
  async usable(token: string): Promise<FileRow> {
    const row = await this.#db<FileRow>('diagnostics_files').where({ token_hash: hash(token) }).first();
    if (!row) throw ApiError.notFound('upload link');
    if (row.state === 'uploaded') throw ApiError.conflict('this upload link was already used');
    if (Date.parse(row.expires_at) < this.#core.clock.nowMs()) throw new ApiError(403, 'this upload link has expired');
    return row;
  }

  /** Stores an upload made with a one-time token: a raw body (PUT) or multipart/form-data (POST). */
  async receive(token: string, body: Buffer | undefined, contentType: string | undefined, nameHint: string | undefined): Promise<DiagnosticsFile> {
    const row = await this.usable(token);
    let data = body ?? Buffer.alloc(0);
    let name = nameHint ?? row.file_name ?? null;
    let type = contentType ?? null;
    if (contentType && /^multipart\/form-data/i.test(contentType)) {
      let parts;
      try {
        parts = parseMultipart(data, contentType);
      } catch (err) {
        throw ApiError.badRequest([{ field: 'body', message: errorMessage(err) }]);
      }
      const file = parts.find((p) => p.filename) ?? parts[0];
      if (!file) throw ApiError.badRequest([{ field: 'body', message: 'the form holds no file' }]);
      data = file.data;
      name = file.filename ?? name;
      type = file.contentType;
    }
    if (!data.length) throw ApiError.badRequest([{ field: 'body', message: 'the upload is empty' }]);
    return this.store(row, name, data, type);
  }

  /** Stores an uploaded file where every diagnostics upload goes and marks its request uploaded (once). */
  async store(row: FileRow, name: string | null, data: Buffer, type: string | null): Promise<DiagnosticsFile> {
    const at = this.#core.clock.iso();
    const chargerId = row.charger_id;
    const dir = join('diagnostics', safeName(chargerId));
    const stored = join(dir, `${at.replace(/[:.]/g, '-')}-${safeName(name ?? `diagnostics-${chargerId}.log`)}`);
    await mkdir(join(this.#core.dataDir, dir), { recursive: true });
    await writeFile(join(this.#core.dataDir, stored), data);
    await this.#db<FileRow>('diagnostics_files').where({ id: row.id }).whereNot({ state: 'uploaded' }).update({
      state: 'uploaded', file_name: name ?? `diagnostics-${chargerId}.log`, stored_path: stored, size_bytes: data.length,
      content_type: type, uploaded_at: at, error: null,
    });
    return this.view((await this.#db<FileRow>('diagnostics_files').where({ id: row.id }).first())!);
  }

  /** A DiagnosticsStatusNotification updates the charger's latest request. */
  async onStatus(chargerId: string, status: string, requestId: number | null = null): Promise<void> {
    const row = await this.#db<FileRow>('diagnostics_files').where({ charger_id: chargerId }).whereIn('state', ['requested', 'uploaded', 'failed'])
      .orderBy('id', 'desc').first();
    if (!row) return;
    if (requestId !== null && row.request_id != null && Number(row.request_id) !== requestId) return;
    const changes: Partial<FileRow> = { charger_status: status };
    if (status === 'UploadFailed' && row.state === 'requested') Object.assign(changes, { state: 'failed', error: this.#failed(row) });
    await this.#db<FileRow>('diagnostics_files').where({ id: row.id }).update(changes);
  }

  /** UploadFailed, with what the appliance saw of the attempt. */
  #failed(r: FileRow): string {
    if (r.via !== 'ftp') return 'the charger reported UploadFailed';
    return r.contacted_at
      ? 'the charger reported UploadFailed: it logged in to the FTP server but the transfer did not complete (passive data ports blocked by a firewall?)'
      : 'the charger reported UploadFailed: it never connected to the FTP server (is diagnostics.ftp.publicUrl reachable from the charger\'s network?)';
  }

  /** One page of requested logs, newest first, and how many there are in all. */
  async list(filter: { chargerId?: string } & Page): Promise<{ rows: DiagnosticsFile[]; total: number }> {
    const q = this.#db<FileRow>('diagnostics_files');
    if (filter.chargerId) q.where({ charger_id: filter.chargerId });
    const [rows, total] = await Promise.all([q.clone().orderBy('id', 'desc').limit(filter.limit).offset(filter.offset), countRows(q)]);
    return { rows: rows.map((r) => this.view(r)), total };
  }

  /** The stored file of an upload, for download. */
  async file(id: number): Promise<{ path: string; name: string; contentType: string | null }> {
    const row = await this.#db<FileRow>('diagnostics_files').where({ id }).first();
    if (!row) throw ApiError.notFound(`diagnostics file ${id}`);
    if (row.state !== 'uploaded' || !row.stored_path) throw ApiError.notFound(`the upload of diagnostics file ${id}`);
    // The name comes from the charger: keep only safe characters for the download header.
    return { path: join(this.#core.dataDir, row.stored_path), name: safeName(row.file_name as string), contentType: row.content_type ?? null };
  }
}
