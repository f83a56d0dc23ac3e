// Storage micro-benchmark: 20,000 MeterValues through the real handler and the group-commit
// writer, 50 chargers at a time, without WebSockets. Prints wall rate and CPU per call.
// Run: npx tsx bench/meter-values-writes.ts
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { siteParts } from '../app/site.js';
import { boot } from '../core/boot.js';
import { meterValues } from '../core/ocpp/v16/meter-values.js';
const dir = mkdtempSync(join(tmpdir(), 'micro-'));
writeFileSync(join(dir, 'c.yaml'), 'http: {host: 127.0.0.1, port: 0}\nlog: {level: warn}\n');
const app = await boot(siteParts, { env: { CHARGEKEEPER_CONFIG: join(dir, 'c.yaml'), CHARGEKEEPER_DATA_DIR: dir, CHARGEKEEPER_ADMIN_PASSWORD: 'bench-admin-pw' } });
// any: a hand-built handler context, only the fields meterValues uses.
const ctx: any = { db: app.db, writer: app.writer, bus: app.bus, clock: app.clock, log: app.log, config: app.config.core.ocpp, openTransactions: new Map(), authorize: async () => ({ status: 'Accepted' }) };
const N = 20000, C = 50;
let wh = 0;
const cpu0 = process.cpuUsage(); const t0 = performance.now();
await Promise.all(Array.from({ length: C }, async (_, c) => {
  for (let i = 0; i < N / C; i++) {
    wh += 10;
    await meterValues(ctx, { id: 'CP' + c, approved: true, protocol: 'ocpp1.6', transactionOwnership: new Map(), truncatedFields: [] }, { connectorId: 1, transactionId: c + 1, meterValue: [{ timestamp: new Date(Date.now() + i).toISOString(), sampledValue: [
      { value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }, { value: '7400', measurand: 'Power.Active.Import', unit: 'W' },
      { value: '230.1', measurand: 'Voltage', phase: 'L1-N', unit: 'V' }, { value: '32.0', measurand: 'Current.Import', phase: 'L1', unit: 'A' }] }] } as any); // any: the handler takes a schema-checked payload type
  }
}));
const ms = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
console.log(`${N} MeterValues: ${(N / ms * 1000).toFixed(0)} calls/s wall, ${((cpu.user + cpu.system) / N).toFixed(0)} µs CPU per call, commits ${app.writer.stats.commits}`);
await app.stop();
