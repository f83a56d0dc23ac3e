import { Writable } from 'node:stream';
import ftpSrv from 'ftp-srv';
import type { FileSystem as FtpFileSystem, FtpSrv as FtpServer } from 'ftp-srv';
import type { Logger } from '../../core/types.js';
import type { DiagnosticsFiles } from './files.js';

/** diagnostics.ftp: the embedded FTP(S) server chargers that cannot upload over HTTP put their logs on. */
export interface FtpConfig {
  enabled: boolean;
  port: number;
  host: string;
  /** ftp://<address chargers reach>:<port>, used in the upload location; default from http.publicUrl's host. */
  publicUrl?: string;
  /** Explicit FTPS (AUTH TLS): PEM file contents read at start. */
  tls?: { cert: string; key: string };
}

/** Same cap as the HTTP upload route. */
const MAX_BYTES = 32 * 1024 * 1024;

// ftp-srv is CommonJS: its FileSystem class is a property of the default export.
const { FtpSrv, FileSystem } = ftpSrv as unknown as { FtpSrv: typeof FtpServer; FileSystem: typeof FtpFileSystem };

type Connection = ConstructorParameters<typeof FileSystem>[0];

/**
 * A file system with nothing in it that takes exactly one file: the upload of
 * one diagnostics request. Nothing can be read, listed or deleted.
 */
class UploadOnlyFs extends FileSystem {
  #upload: (name: string, data: Buffer) => Promise<void>;
  #used = false;

  constructor(connection: Connection, upload: (name: string, data: Buffer) => Promise<void>) {
    super(connection, { root: '/', cwd: '/' });
    this.#upload = upload;
  }

  override currentDirectory(): string { return '/'; }
  override async get(fileName: string): Promise<unknown> {
    if (fileName === '/' || fileName === '.' || fileName === '') return { name: '/', isDirectory: () => true, size: 0, mtime: new Date(), mode: 0o755 };
    throw new Error('no such file');
  }
  override async list(): Promise<unknown[]> { return []; }
  // Some chargers change into a directory named after themselves first; every directory is the same empty one.
  override async chdir(): Promise<string> { return '/'; }
  override async mkdir(path: string): Promise<string> { return path; }
  override async read(): Promise<never> { throw new Error('downloads are not offered'); }
  override async delete(): Promise<never> { throw new Error('not allowed'); }
  override async rename(): Promise<never> { throw new Error('not allowed'); }
  override async chmod(): Promise<void> { /* nothing to change */ }

  override write(fileName: string): Writable {
    if (this.#used) throw new Error('this upload location was already used');
    this.#used = true;
    const chunks: Buffer[] = [];
    let size = 0;
    const upload = this.#upload;
    return new Writable({
      write(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > MAX_BYTES) return cb(new Error(`the upload is larger than ${MAX_BYTES} bytes`));
        chunks.push(chunk);
        cb();
      },
      // ftp-srv answers 226 on 'finish', which waits for this: the file is stored before the charger hears it arrived.
      final(cb) {
        upload(fileName.replace(/^.*\//, ''), Buffer.concat(chunks)).then(() => cb(), (err: unknown) => cb(err instanceof Error ? err : new Error(String(err))));
      },
    });
  }
}

/** The embedded FTP server: logs in only with a diagnostics request's one-time user and password. */
export class FtpUploads {
  #server: FtpServer | null = null;

  constructor(private readonly d: { config: FtpConfig; files: DiagnosticsFiles; log: Logger; publicHost: string }) {}

  /** The ftp://host:port base of upload locations. */
  baseUrl(): string {
    return (this.d.config.publicUrl ?? `ftp://${this.d.publicHost}:${this.d.config.port}`).replace(/\/+$/, '');
  }

  async start(): Promise<void> {
    const { config, files, log } = this.d;
    const quiet = () => undefined;
    const logger = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (e: unknown) => log.warn(`FTP: ${String(e instanceof Error ? e.message : (e as { message?: string })?.message ?? 'error')}`), child: () => logger };
    const before = new Set([...process.listeners('SIGTERM'), ...process.listeners('SIGINT')]);
    this.#server = new FtpSrv({
      url: `ftp://${config.host}:${config.port}`,
      pasv_url: new URL(this.baseUrl()).hostname,
      anonymous: false,
      greeting: ['ChargeKeeper diagnostics upload'],
      tls: config.tls ?? false,
      log: logger,
    });
    // ftp-srv exits the process on SIGTERM/SIGINT by itself; the appliance's own shutdown stops it instead.
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      for (const l of process.listeners(sig)) if (!before.has(l)) process.off(sig, l);
    }
    this.#server.on('login', ({ connection, username, password }, resolve, reject) => {
      void files.ftpLogin(username, password).then(
        (row) => resolve({ fs: new UploadOnlyFs(connection, (name, data) => files.store(row, name, data, null).then(() => undefined)) as never }),
        (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
      );
    });
    this.#server.on('client-error', ({ error }) => log.debug(`FTP client error: ${String(error?.message ?? error)}`));
    await this.#server.listen();
    log.info(`diagnostics FTP upload server listening on ${config.host}:${config.port}`);
  }

  async stop(): Promise<void> {
    await this.#server?.close();
    this.#server = null;
  }
}
