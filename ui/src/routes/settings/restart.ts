import { api } from '$lib/api.ts';

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

async function uptime(): Promise<number | null> {
  try {
    const res = await fetch('/api/health', { cache: 'no-store' });
    return res.ok ? ((await res.json()) as { uptimeS: number }).uptimeS : null;
  } catch {
    return null; // down while it restarts
  }
}

/** Asks for a restart and follows it until the appliance answers again as a new process run. */
export async function restartAndWait(step: (text: string) => void, timeoutMs = 90_000): Promise<void> {
  const before = await uptime();
  await api.post('/api/settings/restart');
  step('Stopping…');
  const until = Date.now() + timeoutMs;
  let wentDown = false;
  while (Date.now() < until) {
    await sleep(500);
    const now = await uptime();
    if (now === null) {
      wentDown = true;
      step('Starting again…');
      continue;
    }
    // Back once it was seen down, or its uptime started again from zero.
    if (wentDown || (before !== null && now < before)) return;
  }
  throw new Error('the appliance did not come back within 90 s; look at its log (journalctl -u chargekeeper)');
}
