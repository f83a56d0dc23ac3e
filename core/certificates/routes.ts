import { Type } from '@sinclair/typebox';
import type { Chargers } from '../chargers.js';
import { ApiError } from '../errors.js';
import { commandApiError } from '../ocpp/send-error.js';
import { STAFF, type RouteSpec } from '../types.js';
import type { Certificates } from './service.js';

const IdParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** A charger's certificates, a request for a new one, and the site CA certificate chargers install. */
export function certificateRoutes(d: { chargers: Chargers; certificates: Certificates }): RouteSpec[] {
  const known = async (id: string) => {
    if (!(await d.chargers.row(id))) throw ApiError.notFound(`charger ${id}`);
  };
  return [
    {
      method: 'GET', path: '/chargers/{id}/certificates', roles: STAFF, params: IdParam,
      summary: 'Certificates the site CA issued to this charger, newest first: [{ serial, use, commonName, notBefore, notAfter, fingerprint, issuedAt, delivery }]',
      handler: async ({ params }) => {
        await known(params.id);
        return d.certificates.list(params.id);
      },
    },
    {
      method: 'POST', path: '/chargers/{id}/certificates/renew', roles: ['installer'], params: IdParam,
      summary: 'Ask the charger for a new certificate request (TriggerMessage SignChargingStationCertificate; 1.6 ExtendedTriggerMessage); answers { accepted, status }',
      handler: async ({ params, principal }) => {
        await known(params.id);
        if (!d.certificates.enabled) throw ApiError.conflict('the site has no CA: set ocpp.security to sign charger certificates');
        try {
          return await d.chargers.commands.trigger(params.id, { message: 'signCertificate' }, { actor: principal!.username });
        } catch (err) {
          commandApiError(err);
        }
      },
    },
    {
      method: 'GET', path: '/certificates/ca', roles: ['installer'],
      summary: 'The site CA certificate (PEM) chargers trust as their central system root: { certificate }',
      handler: async () => {
        const certificate = d.certificates.caCertificate();
        if (!certificate) throw ApiError.notFound('site CA (ocpp.security is not set)');
        return { certificate };
      },
    },
  ];
}
