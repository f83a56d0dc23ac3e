// Who is signed in, and what the server told us about itself.
import { api, ApiError, errorMessage, getToken, type Account, onUnauthorized, setToken, type Health, type LoginAnswer, type PluginInfo, type Role } from './api.ts';
import { connectLive, loadChargers, resetLive } from './live.svelte.ts';

export const session = $state({
  /** The signed-in user, or null. */
  user: null as Account | null,
  /** False until the stored token has been checked. */
  ready: false,
  health: null as Health | null,
  plugins: [] as PluginInfo[],
  /** Why the user was sent back to the login form, if not by choice. */
  notice: '',
});

const OPERATORS: Role[] = ['admin', 'installer', 'technician', 'viewer'];

/** What the signed-in role may do; the server enforces the same rules. */
export const can = {
  /** See operational pages (everything but drivers). */
  operate: () => !!session.user && OPERATORS.includes(session.user.role),
  /** Send OCPP commands. */
  command: () => !!session.user && ['admin', 'installer', 'technician'].includes(session.user.role),
  /** Approve, rename, set charger passwords. */
  manage: () => !!session.user && ['admin', 'installer'].includes(session.user.role),
  /** Whether a page listing these roles is visible; admin sees all. */
  see: (roles: Role[]) => !!session.user && (session.user.role === 'admin' || roles.includes(session.user.role)),
};

export async function loadHealth(): Promise<void> {
  try {
    session.health = await api.get<Health>('/api/health', { noAuthRedirect: true });
  } catch {
    session.health = null;
  }
}

/** Restores a stored token; resolves when session.ready. */
export async function restore(): Promise<void> {
  onUnauthorized(() => signOut('Your session has expired. Please sign in again.'));
  const token = getToken();
  if (token) {
    try {
      const me = await api.get<Account>('/api/auth/me');
      await start(me, token);
    } catch (e) {
      // Only a refused token is forgotten; an unreachable server keeps it for the next reload.
      if (e instanceof ApiError && e.status === 401) setToken(null);
      else session.notice = errorMessage(e);
    }
  }
  session.ready = true;
}

export async function signIn(username: string, password: string): Promise<void> {
  const res = await api.post<LoginAnswer>('/api/auth/login', { username, password }, { noAuthRedirect: true });
  setToken(res.token);
  const me = res.user ?? (await api.get<Account>('/api/auth/me'));
  session.notice = '';
  await start(me, res.token);
}

/** Revokes the token on the server, then forgets it here. */
export async function logout(): Promise<void> {
  await api.post('/api/auth/logout', {}, { noAuthRedirect: true }).catch(() => {});
  signOut();
}

export function signOut(notice = ''): void {
  setToken(null);
  resetLive();
  session.user = null;
  session.plugins = [];
  session.notice = notice;
}

async function stillSignedIn(): Promise<boolean> {
  try {
    await api.get<Account>('/api/auth/me');
    return true;
  } catch (e) {
    return !(e instanceof ApiError && e.status === 401);
  }
}

async function start(me: Account, token: string): Promise<void> {
  session.user = me;
  connectLive(token, stillSignedIn);
  await Promise.all([loadChargers().catch(() => {}), loadPlugins()]);
}

export async function loadPlugins(): Promise<void> {
  try {
    session.plugins = await api.get<PluginInfo[]>('/api/plugins');
  } catch {
    session.plugins = [];
  }
}
