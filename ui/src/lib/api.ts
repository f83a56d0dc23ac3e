// The one HTTP client of the UI. Plugin pages import it too:
//   import { api, ApiError } from '$lib/api.ts';

// The server's own shapes, type-only (erased from the bundle), so each is declared once.
import type { Account } from '../../../core/accounts.ts';
import type { FieldProblem } from '../../../core/errors.ts';
import type { ChargePointStatus, TransactionCost } from '../../../core/events.ts';
import type { ChargerView, ConnectorState } from '../../../core/services.ts';
import type { TransactionApiView } from '../../../core/transactions.ts';
import type { Role } from '../../../core/types.ts';
export type { DeviceModelComponent, DeviceModelReport, DeviceModelVariable, DeviceModelView } from '../../../core/device-model/view.ts';

export type { Account, ChargePointStatus, Role };
// One errorMessage for server and UI alike; core/errors.ts imports nothing, so the bundle gets just this function.
export { errorMessage } from '../../../core/errors.ts';
export type { FieldProblem } from '../../../core/errors.ts';

export interface LoginAnswer {
  token: string;
  /** ISO time the token stops working. */
  expiresAt?: string;
  /** The signed-in account, as /api/auth/me gives it too. */
  user?: Account;
}

export interface Health {
  status: string;
  version: string;
  uptimeS: number;
}

/** A connector as the UI keeps it live: the API's status, patched by connector.status events (no error code before the first). */
export type Connector = Pick<ConnectorState, 'connectorId'> & { status: ChargePointStatus | string; errorCode: string | null };

/** A charger in GET /api/chargers, with its connectors as the UI keeps them; name may be absent in event-made entries. */
export type Charger = Omit<ChargerView, 'name' | 'connectors'> & { name?: string | null; connectors: Connector[] };

/** A session as GET /api/transactions shows it: the core's view and its cost, when a plugin prices sessions. */
export type Transaction = TransactionApiView & { cost: TransactionCost | null };

export interface ChargerDetail extends Charger {
  serialNumber: string | null;
  iccid: string | null;
  imsi: string | null;
  meterType: string | null;
  meterSerialNumber: string | null;
  registeredAt: string | null;
  lastBootAt: string | null;
  lastHeartbeatAt: string | null;
  bootStatus: string | null;
  hasPassword: boolean;
  /** The last connection refused under this id since the appliance started (wrong password, someone else as it). */
  lastRefusal: { at: string; reason: string; remoteAddress: string } | null;
  openTransactions: OpenTransaction[];
}

/** A running transaction as listed in a charger's detail. */
export interface OpenTransaction {
  id: number;
  chargerId?: string;
  connectorId: number;
  idTag: string;
  userId: number | null;
  startedAt: string;
  meterStartWh: number;
  /** An OCPP 2.0.1 charger's own name for the session (what RequestStopTransaction takes). */
  chargerTransactionId?: string;
}

export interface Site {
  name: string;
  timezone: string;
  /** WebSocket path chargers connect to, e.g. "/ocpp". */
  ocppPath: string;
  version: string;
}

export interface StatusHistoryEntry {
  connectorId: number;
  status: string;
  errorCode: string | null;
  info: string | null;
  vendorErrorCode: string | null;
  /** Charger's timestamp of the change. */
  at: string;
  /** When the server received it. */
  receivedAt: string;
}

export interface CommandInfo {
  action: string;
  profile: string;
  /** A sample request payload. */
  example: unknown;
}

export interface PluginPage {
  path: string;
  title: string;
  component: string;
  roles: Role[];
  icon?: string;
  /** Repo-relative file of the component, e.g. plugins/users/ui/UsersPage.svelte. */
  module: string;
}

export interface PluginInfo {
  name: string;
  version: string;
  summary: string;
  state: 'running' | 'failed' | 'stopped';
  error: string | null;
  pages: PluginPage[];
}

/** Any non-2xx answer, or status 0 when the server could not be reached. */
export class ApiError extends Error {
  readonly status: number;
  readonly errors: FieldProblem[];
  readonly body: unknown;
  constructor(status: number, message: string, errors: FieldProblem[] = [], body?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors;
    this.body = body;
  }
}

const TOKEN_KEY = 'chargekeeper.token';
let unauthorized: (() => void) | null = null;

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** Called once by the app: what to do when the server answers 401 to a signed-in call. */
export function onUnauthorized(fn: () => void): void {
  unauthorized = fn;
}

function messageOf(status: number, body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    if (typeof b.message === 'string' && b.message) return b.message;
    if (typeof b.error === 'string' && b.error) return b.error;
  }
  if (typeof body === 'string' && body && body.length < 300) return body;
  return fallback || `HTTP ${status}`;
}

function errorsOf(body: unknown): FieldProblem[] {
  if (!body || typeof body !== 'object') return [];
  const list = (body as Record<string, unknown>).errors;
  if (!Array.isArray(list)) return [];
  return list
    .filter((e): e is Record<string, unknown> => !!e && typeof e === 'object')
    .map((e) => ({ field: String(e.field ?? e.path ?? ''), message: String(e.message ?? '') }));
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Skip the sign-out on 401 (the login form itself). */
  noAuthRedirect?: boolean;
}

async function request<T>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: opts.signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached.');
  }
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && token && !opts.noAuthRedirect) unauthorized?.();
    throw new ApiError(res.status, messageOf(res.status, data, res.statusText), errorsOf(data), data);
  }
  return data as T;
}

/** Paths are absolute, e.g. api.get<Charger[]>('/api/chargers'). */
export const api = {
  get: <T>(path: string, opts?: RequestOptions) => request<T>('GET', path, undefined, opts),
  post: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('POST', path, body ?? {}, opts),
  put: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PUT', path, body ?? {}, opts),
  patch: <T>(path: string, body?: unknown, opts?: RequestOptions) => request<T>('PATCH', path, body ?? {}, opts),
  del: <T = void>(path: string, opts?: RequestOptions) => request<T>('DELETE', path, undefined, opts),
};

/** Builds "?a=1&b=x" from the non-empty values. */
export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
