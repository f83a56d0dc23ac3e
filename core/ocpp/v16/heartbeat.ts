import type { Handler } from '../context.js';

/**
 * Answers with the time. Nothing is written per heartbeat: the time is kept
 * in memory and stored with the last-seen times every few seconds, so a
 * charger (or a flood of heartbeats) costs the SD card no row and no commit.
 */
export const heartbeat: Handler<Record<string, never>, { currentTime: string }> = async (ctx, cp) => {
  const at = ctx.clock.iso();
  ctx.heartbeats.set(cp.id, at);
  ctx.bus.emit('charger.heartbeat', { chargerId: cp.id, at });
  return { currentTime: at };
};
