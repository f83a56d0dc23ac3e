import type { Handler } from '../context.js';

/** The 1.6 security whitepaper's SignCertificate: the charge point's own certificate, signed like 2.0.1's. */
export const signCertificate: Handler<{ csr: string }, { status: 'Accepted' | 'Rejected' }> = async (ctx, cp, p) => {
  const answer = await ctx.certificates?.sign(cp.id, p.csr, 'charger');
  return { status: answer?.accepted ? 'Accepted' : 'Rejected' };
};
