/**
 * A hand-framed OCPP-J charger for the benchmark: plain `ws`, frames built
 * as strings, replies matched by message id without parsing their payload
 * and no schema validation; calls from the server are refused at once
 * (NotImplemented). It costs the load generator a fraction of what
 * the server spends per call, so the server saturates first (the bench
 * prints both CPU times to show it).
 */
import WebSocket from 'ws';

export class FramedCharger {
  readonly #ws: WebSocket;
  readonly #pending = new Map<string, { resolve: (reply: string) => void; reject: (err: Error) => void }>();
  #seq = 0;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      // [3,"<id>",{...}] or [4,"<id>","code",...]: the id is the first quoted string.
      const start = text.indexOf('"') + 1;
      const id = text.slice(start, text.indexOf('"', start));
      if (text.charCodeAt(1) === 50) { // '2': a call from the server (configuration, local lists, probes)
        // Answered at once, as a charger without those features would, so no server call waits for its timeout.
        ws.send(`[4,"${id}","NotImplemented","not in the benchmark's charger",{}]`);
        return;
      }
      const waiter = this.#pending.get(id);
      if (!waiter) return;
      this.#pending.delete(id);
      if (text.charCodeAt(1) === 52) waiter.reject(new Error(`CALLERROR ${text.slice(0, 200)}`)); // '4'
      else waiter.resolve(text);
    });
    ws.once('close', () => {
      for (const w of this.#pending.values()) w.reject(new Error('socket closed'));
      this.#pending.clear();
    });
  }

  static open(port: number, id: string): Promise<FramedCharger> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ocpp/${id}`, ['ocpp1.6'], { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new FramedCharger(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
  }

  /** Sends a call whose payload is already JSON; resolves with the raw reply frame. */
  callRaw(action: string, payloadJson: string): Promise<string> {
    const id = (this.#seq++).toString(36);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(`[2,"${id}","${action}",${payloadJson}]`);
    });
  }

  /** A call whose reply payload the caller needs (boot, start): parsed, off the hot path. */
  async call<T = Record<string, unknown>>(action: string, payload: unknown): Promise<T> {
    const reply = await this.callRaw(action, JSON.stringify(payload));
    return (JSON.parse(reply) as [number, string, T])[2];
  }

  close(): Promise<void> {
    if (this.#ws.readyState === this.#ws.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ws.once('close', () => resolve());
      this.#ws.terminate();
    });
  }
}

/** A MeterValues payload with four sampled values, as JSON: one string concatenation per call. */
export function meterValuesJson(transactionId: number, wh: number): string {
  return `{"connectorId":1,"transactionId":${transactionId},"meterValue":[{"timestamp":"${new Date().toISOString()}","sampledValue":[`
    + `{"value":"${wh}","measurand":"Energy.Active.Import.Register","unit":"Wh"},{"value":"7400","measurand":"Power.Active.Import","unit":"W"},`
    + '{"value":"230.1","measurand":"Voltage","phase":"L1-N","unit":"V"},{"value":"32.0","measurand":"Current.Import","phase":"L1","unit":"A"}]}]}';
}
