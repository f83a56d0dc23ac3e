// The appliance's entry point (`npm start` runs its build, dist/app/main.js).
import { boot } from '../core/boot.js';
import { ConfigError } from '../core/config.js';
import { siteParts } from './site.js';

try {
  const app = await boot(siteParts);
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1); // a second Ctrl-C means "now"
    app.log.info(`${signal} received`);
    app.stop().then(() => process.exit(0), (err: unknown) => {
      app.log.error(`shutdown failed: ${String(err)}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`startup failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
}
