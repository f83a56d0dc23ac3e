// One OCPP command round-trip to a charger, with its progress and outcome as reactive state.
import { api, ApiError } from '../../lib/api.ts';

/** The routes of POST /api/chargers/{id}/actions/{action}. */
export type ChargerAction = 'reset' | 'unlock' | 'start' | 'stop';

export class CommandRun {
  busy = $state(false);
  /** The action being (or last) sent. */
  action = $state('');
  /** Epoch ms the current request started. */
  startedAt = $state(0);
  /** The charger's reply payload, once answered. */
  response = $state<unknown>(undefined);
  error = $state<unknown>(null);

  /** A raw OCPP call by action name (the expert form); its reply is the charger's payload. */
  send(chargerId: string, action: string, payload: unknown): Promise<unknown> {
    return this.#run(action, async () => {
      const res = await api.post<{ response: unknown }>(
        `/api/chargers/${encodeURIComponent(chargerId)}/commands/${encodeURIComponent(action)}`,
        payload ?? {},
      );
      return res?.response ?? null;
    });
  }

  /** An everyday action by what it does; the server picks the OCPP version's command. Its reply is { status, ... }. */
  act(chargerId: string, action: ChargerAction, body: Record<string, unknown>, label: string): Promise<unknown> {
    return this.#run(label, async () => (await api.post<unknown>(`/api/chargers/${encodeURIComponent(chargerId)}/actions/${action}`, body)) ?? null);
  }

  async #run(label: string, call: () => Promise<unknown>): Promise<unknown> {
    this.busy = true;
    this.action = label;
    this.startedAt = Date.now();
    this.response = undefined;
    this.error = null;
    try {
      this.response = await call();
      return this.response;
    } catch (e) {
      this.error = e;
      return undefined;
    } finally {
      this.busy = false;
    }
  }

  clear(): void {
    this.response = undefined;
    this.error = null;
    this.action = '';
  }
}

/** A headline for a failed command, by HTTP status. */
export function commandErrorTitle(e: unknown): string {
  if (!(e instanceof ApiError)) return 'The command failed';
  switch (e.status) {
    case 0: return 'The server could not be reached';
    case 400: return 'The request was rejected: invalid payload';
    case 403: return 'Your role may not send this command';
    case 404: return 'Not found';
    case 409: return 'The charger is offline: nothing was sent';
    case 502: return 'The charger refused the command (CALLERROR)';
    case 504: return 'The charger did not answer in time';
    default: return `The command failed (HTTP ${e.status})`;
  }
}

/** "Accepted" for the common { status } replies, else compact JSON. */
export function replySummary(response: unknown): string {
  if (response && typeof response === 'object' && 'status' in response) return String((response as { status: unknown }).status);
  if (response === null || response === undefined) return 'no payload';
  const s = JSON.stringify(response);
  return s === '{}' ? 'OK (empty reply)' : s;
}
