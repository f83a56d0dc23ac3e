// The one entry point of the test kit. Modules with heavy dependencies
// (playwright-core, smtp-server, aedes, mqtt) load them on first use, so
// importing the kit stays cheap for the many tests that need none of them.
export * from './app.js';
export * from './browser.js';
export * from './fixtures.js';
export * from './http.js';
export * from './peers.js';
export * from './process.js';
export * from './prometheus.js';
export * from './raw.js';
export { useTeardown } from './teardown.js';
