import { Type } from '@sinclair/typebox';
import type { ResponseToolkit } from '@hapi/hapi';
import { ApiError } from '../../core/errors.js';
import { withChecks } from '../../core/http/validate.js';
import type { CoreServices } from '../../core/services.js';
import { STAFF, type Role, type RouteSpec } from '../../core/types.js';
import { CampaignBody, SelectionSchema, type CampaignInput, type Campaigns } from './campaigns.js';
import type { FirmwareFiles } from './files.js';
import { select, selectedView, selectionProblems } from './selection.js';
import type { FleetStore, Selection } from './store.js';

/** Campaigns change what chargers run: those who set the site up start and steer them. */
export const INSTALLERS: Role[] = ['admin', 'installer'];

interface Deps {
  core: CoreServices;
  store: FleetStore;
  files: FirmwareFiles;
  campaigns: Campaigns;
  groups: () => Record<string, string[]>;
  maxFirmwareBytes: number;
}

const IdParam = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export function routes(d: Deps): RouteSpec[] {
  const view = async (id: number) => d.store.view(await d.campaigns.existing(id), true);
  return [
    {
      method: 'POST', path: '/fleet/firmware', roles: INSTALLERS,
      summary: 'Uploads a firmware file (raw body, Content-Type application/octet-stream, ?name=file name); answers its id, size and sha256',
      query: Type.Object({ name: Type.String({ minLength: 1, maxLength: 120, default: 'firmware.bin' }) }),
      rawPayload: { maxBytes: d.maxFirmwareBytes, allow: ['application/octet-stream'] },
      handler: async ({ query, payload, principal }, h: ResponseToolkit) => {
        const data = payload as Buffer | undefined;
        if (!data?.length) throw ApiError.badRequest([{ field: 'body', message: 'the upload is empty' }]);
        const file = await d.files.store((query as { name: string }).name, data, principal!.username);
        await d.core.audit.record(principal!.username, 'fleet.firmware-uploaded', file.name, { id: file.id, sizeBytes: file.sizeBytes, sha256: file.sha256 });
        return h.response(file).code(201);
      },
    },
    {
      method: 'GET', path: '/fleet/firmware', roles: STAFF,
      summary: 'Uploaded firmware files, newest first',
      handler: () => d.files.list(),
    },
    {
      method: 'GET', path: '/fleet/groups', roles: STAFF,
      summary: 'The charger groups of plugins.fleet.groups, with their members',
      handler: () => Object.entries(d.groups()).map(([name, chargerIds]) => ({ name, chargerIds })),
    },
    withChecks<{ selection: Selection }>({
      method: 'POST', path: '/fleet/selection', roles: STAFF,
      summary: 'The approved chargers a selection matches now, as a campaign would target them',
      body: Type.Object({ selection: SelectionSchema }, { additionalProperties: false }),
      handler: async ({ payload }) => {
        const { selection } = payload as { selection: Selection };
        return select(await d.core.chargers.list(), selection, d.groups()).map(selectedView);
      },
    }, async ({ payload }) => selectionProblems(payload.selection, await d.core.chargers.list(), d.groups())),
    withChecks<CampaignInput>({
      method: 'POST', path: '/fleet/campaigns', roles: INSTALLERS,
      summary: 'Starts a firmware or configuration campaign over the selected chargers: firmware to one charger first, then in waves of waveSize',
      body: CampaignBody,
      handler: async ({ payload, principal }, h: ResponseToolkit) => {
        const body = payload as CampaignInput;
        const id = await d.campaigns.create(body, principal!.username);
        const created = await view(id);
        await d.core.audit.record(principal!.username, 'fleet.campaign-started', `campaign ${id}`, {
          kind: created.kind, name: created.name, chargers: created.targets?.length ?? 0, waveSize: created.waveSize,
        });
        return h.response(created).code(201);
      },
    }, ({ payload }) => d.campaigns.problems(payload)),
    {
      method: 'GET', path: '/fleet/campaigns', roles: STAFF,
      summary: 'The 200 newest campaigns, newest first, with their chargers counted by state',
      handler: async () => Promise.all((await d.store.campaigns(200)).map((c) => d.store.view(c, false))),
    },
    {
      method: 'GET', path: '/fleet/campaigns/{id}', roles: STAFF,
      summary: 'A campaign and, per charger, its state, last firmware status or configuration answer, old and new firmware version and error',
      params: IdParam,
      handler: ({ params }) => view((params as { id: number }).id),
    },
    {
      method: 'POST', path: '/fleet/campaigns/{id}/resume', roles: INSTALLERS,
      summary: 'Resumes a stopped campaign: its failed and skipped chargers are tried again',
      params: IdParam,
      handler: async ({ params, principal }) => {
        const { id } = params as { id: number };
        await d.campaigns.resume(id);
        await d.core.audit.record(principal!.username, 'fleet.campaign-resumed', `campaign ${id}`, {});
        return view(id);
      },
    },
    {
      method: 'POST', path: '/fleet/campaigns/{id}/cancel', roles: INSTALLERS,
      summary: 'Cancels a campaign: nothing more is sent; chargers already updating are followed to their result',
      params: IdParam,
      handler: async ({ params, principal }) => {
        const { id } = params as { id: number };
        await d.campaigns.cancel(id, principal!.username);
        await d.core.audit.record(principal!.username, 'fleet.campaign-cancelled', `campaign ${id}`, {});
        return view(id);
      },
    },
    {
      method: 'GET', path: '/fleet/files/{token}/{name?}', roles: 'public',
      summary: 'Where a charger downloads its firmware: the one-time link of UpdateFirmware, for that charger and campaign only, expiring, a bounded number of requests (Range allowed)',
      params: Type.Object({ token: Type.String({ maxLength: 64 }), name: Type.Optional(Type.String({ maxLength: 200 })) }),
      handler: async ({ params }, h: ResponseToolkit) => {
        const f = await d.files.claim((params as { token: string }).token);
        return h.file(f.path, { confine: false, mode: 'attachment', filename: f.name }).type('application/octet-stream');
      },
    },
  ];
}
