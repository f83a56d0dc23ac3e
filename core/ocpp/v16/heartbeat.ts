import type { Handler } from '../context.js';

export const heartbeat: Handler<Record<string, never>, { currentTime: string }> = async (ctx, cp) => {
  const at = ctx.clock.iso();
  await ctx.writer.write(async (trx) => {
    await trx('chargers').where({ id: cp.id }).update({ last_heartbeat_at: at, last_seen_at: at });
    await trx('charger_messages').insert({ charger_id: cp.id, action: 'Heartbeat', received_at: at });
  });
  ctx.bus.emit('charger.heartbeat', { chargerId: cp.id, at });
  return { currentTime: at };
};
