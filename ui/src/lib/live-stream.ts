// The SSE client of GET /api/events: opens the stream, subscribes event names, reconnects.
// It knows nothing of the live state; live.svelte.ts hands it what to do with each event.

export type StreamState = 'idle' | 'connecting' | 'open' | 'retrying';

export interface StreamHooks {
  /** Every event, its JSON already parsed; a body that is not JSON is dropped. */
  event(name: string, payload: unknown): void;
  /** The stream's state changed. */
  state(s: StreamState): void;
  /** The stream came back after an error: events may have been missed. */
  resync(): void;
}

/** Waits this long before reopening a stream the server closed. */
const RETRY_MS = 3000;

export class LiveStream {
  #hooks: StreamHooks;
  #source: EventSource | null = null;
  #token: string | null = null;
  #attached = new Set<string>();
  #names = new Set<string>();
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #hadError = false;
  #authCheck: (() => Promise<boolean>) | null = null;

  constructor(hooks: StreamHooks) {
    this.#hooks = hooks;
  }

  /** Opens the stream with the given token; safe to call again with a new token. False when it was already open with it. */
  connect(token: string, checkAuth?: () => Promise<boolean>): boolean {
    if (this.#source && this.#token === token) return false;
    this.disconnect();
    this.#token = token;
    this.#authCheck = checkAuth ?? null;
    this.#open();
    return true;
  }

  disconnect(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#source?.close();
    this.#source = null;
    this.#token = null;
    this.#attached = new Set();
    this.#hooks.state('idle');
  }

  /** Subscribes an event name, now and on every reconnect. */
  listen(name: string): void {
    this.#names.add(name);
    this.#attach(name);
  }

  #open(): void {
    if (!this.#token) return;
    this.#hooks.state('connecting');
    const es = new EventSource(`/api/events?token=${encodeURIComponent(this.#token)}`);
    this.#source = es;
    this.#attached = new Set();
    for (const name of this.#names) this.#attach(name);
    es.onopen = () => {
      this.#hooks.state('open');
      if (this.#hadError) this.#hooks.resync();
      this.#hadError = false;
    };
    es.onerror = () => {
      this.#hadError = true;
      this.#hooks.state('retrying');
      if (es.readyState === EventSource.CLOSED) {
        // The server refused the stream (e.g. token expired): check why, then retry.
        es.close();
        if (this.#source === es) this.#source = null;
        void this.#retryLater();
      }
    };
  }

  async #retryLater(): Promise<void> {
    const ok = this.#authCheck ? await this.#authCheck().catch(() => true) : true;
    if (!ok || !this.#token) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (!this.#source && this.#token) this.#open();
    }, RETRY_MS);
  }

  #attach(name: string): void {
    const source = this.#source;
    if (!source || this.#attached.has(name)) return;
    this.#attached.add(name);
    source.addEventListener(name, (ev) => {
      let payload: unknown;
      try {
        payload = JSON.parse((ev as MessageEvent<string>).data);
      } catch {
        return;
      }
      this.#hooks.event(name, payload);
    });
  }
}
