// The appliance's entry point (`npm start` runs its build, dist/app/main.js).
import { boot, type App } from '../core/boot.js';
import { ConfigError } from '../core/config.js';
import { siteParts } from './site.js';

let app: App;
let restarting: Promise<void> | null = null;

/** Core settings changed in the UI: the appliance stops and starts again in this process, as a service restart would. */
function restart(): void {
  restarting ??= (async () => {
    app.log.info('restarting to take the new site config');
    await app.stop();
    try {
      app = await boot(siteParts, { restart });
    } catch (err) {
      // The file was checked before it was written; a failure here (a port taken) is fatal, and the service manager restarts us.
      process.stderr.write(`restart failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    } finally {
      restarting = null;
    }
  })();
}

try {
  app = await boot(siteParts, { restart });
  let signals = 0;
  const shutdown = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1); // a second Ctrl-C means "now"
    app.log.info(`${signal} received`);
    void (restarting ?? Promise.resolve()).then(() => app.stop()).then(() => process.exit(0), (err: unknown) => {
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
