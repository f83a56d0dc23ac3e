import type { Handler } from '../context.js';

export interface SignCertificateReq { csr: string; certificateType?: 'ChargingStationCertificate' | 'V2GCertificate' }

/**
 * OCPP 2.0.1 SignCertificate: answered at once; when Accepted, the site CA's CertificateSigned follows on its own
 * call. The reason of a refusal stays in the log and the audit: OCPP's statusInfo would tell a prober what we check.
 */
export const signCertificate: Handler<SignCertificateReq, { status: 'Accepted' | 'Rejected' }> = async (ctx, cp, p) => {
  const answer = await ctx.certificates?.sign(cp.id, p.csr, p.certificateType === 'V2GCertificate' ? 'v2g' : 'charger');
  return { status: answer?.accepted ? 'Accepted' : 'Rejected' };
};
