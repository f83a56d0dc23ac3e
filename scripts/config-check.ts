// `npm run config:check -- config/examples/co-op.yaml`: validates a site config without starting anything.
import { siteParts } from '../app/site.js';
import { checkSiteConfig } from '../core/boot.js';

const file = process.argv[2] ?? process.env.CHARGEKEEPER_CONFIG ?? 'config/default.yaml';
const { problems } = checkSiteConfig({ ...process.env, CHARGEKEEPER_CONFIG: file }, siteParts, { logSink: () => undefined });
if (problems.length) {
  process.stderr.write(`${file}: ${problems.length} problem(s):\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`);
  process.exit(2);
}
process.stdout.write(`${file}: OK\n`);
