import { X509Certificate } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { Knex } from 'knex';
import { ApiError, type FieldProblem } from '../../core/errors.js';
import { configurationKeyProblem } from '../../core/ocpp/commands/configuration.js';
import { isSecretConfigKey } from '../../core/redact.js';
import { Strict } from '../../core/schema.js';
import type { CoreServices } from '../../core/services.js';
import { CHARGER_ID, GROUP_NAME, MAX_CHARGERS } from './config.js';
import type { Engine } from './engine.js';
import { select, selectionProblems } from './selection.js';
import { FINAL, type CampaignRow, type FleetStore, type Selection, type TargetRow } from './store.js';

export const MAX_WAVE = 50;

export const SelectionSchema = Strict({
  chargerIds: Type.Optional(Type.Array(CHARGER_ID, { minItems: 1, maxItems: MAX_CHARGERS, description: 'These chargers' })),
  group: Type.Optional(Type.String({ pattern: GROUP_NAME, 'x-expected': 'a group name from plugins.fleet.groups', description: 'The chargers of a group from plugins.fleet.groups' })),
  vendor: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'chargePointVendor of their boot' })),
  model: Type.Optional(Type.String({ minLength: 1, maxLength: 20, description: 'chargePointModel of their boot' })),
  firmwareVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'The firmware version they run now' })),
}, { description: 'Which approved chargers: every criterion given must match' });

export const CampaignBody = Strict({
  kind: Type.Union([Type.Literal('firmware'), Type.Literal('configuration')]),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  selection: SelectionSchema,
  waveSize: Type.Integer({ minimum: 1, maximum: MAX_WAVE, default: 5, description: 'Chargers per wave after the first (a firmware campaign\'s first wave is one charger)' }),
  firmware: Type.Optional(Strict({
    fileId: Type.Optional(Type.Integer({ minimum: 1, description: 'An uploaded file (POST /api/fleet/firmware), served by the appliance through one-time links' })),
    url: Type.Optional(Type.String({ minLength: 8, maxLength: 512, pattern: '^(https?|ftp)://[^\\s]+$', 'x-expected': 'an http://, https:// or ftp:// URL', description: 'Or a URL the chargers download from themselves' })),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
    retryInterval: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400, description: 's between the charger\'s download retries' })),
    signature: Type.Optional(Type.String({
      minLength: 4, maxLength: 800, pattern: '^[A-Za-z0-9+/]+={0,2}$', 'x-expected': 'the base64 signature of the firmware file',
      description: 'Signed firmware: the file\'s signature (base64), checked by the chargers; needs signingCertificate',
    })),
    signingCertificate: Type.Optional(Type.String({
      minLength: 50, maxLength: 5500, pattern: '^-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\\s]+-----END CERTIFICATE-----\\s*$',
      'x-expected': 'one PEM X.509 certificate', description: 'Signed firmware: the PEM certificate the file was signed with; needs signature',
    })),
  })),
  configuration: Type.Optional(Strict({
    key: Type.String({
      minLength: 1, maxLength: 205, pattern: '^[A-Za-z0-9_.:+|@*\\[\\]-]+$',
      'x-expected': 'an OCPP configuration key like MeterValueSampleInterval, or Component.Variable like OCPPCommCtrlr.HeartbeatInterval',
    }),
    value: Type.String({ maxLength: 500 }),
    reboot: Type.Boolean({ default: false, description: 'Soft-reset chargers that answer RebootRequired, once no session runs there' }),
  })),
});
export type CampaignInput = Static<typeof CampaignBody>;

/** A signed update needs both parts, and a certificate that parses (the schema bounds its size and shape). */
function signatureProblems(fw: NonNullable<CampaignInput['firmware']>): FieldProblem[] {
  if ((fw.signature === undefined) !== (fw.signingCertificate === undefined)) {
    return [{ field: fw.signature === undefined ? 'firmware.signature' : 'firmware.signingCertificate', message: 'a signed update needs both signature and signingCertificate' }];
  }
  if (fw.signingCertificate === undefined) return [];
  try {
    new X509Certificate(fw.signingCertificate);
    return [];
  } catch {
    return [{ field: 'firmware.signingCertificate', message: 'is not a readable X.509 certificate' }];
  }
}

interface Deps { db: Knex; core: CoreServices; store: FleetStore; engine: Engine; groups: () => Record<string, string[]> }

/** Creating, resuming and cancelling campaigns; the engine does the rest. */
export function createCampaigns(d: Deps) {
  /** The hand checks of a new campaign, answered with its schema's problems in one 400. */
  async function problems(b: Partial<CampaignInput>): Promise<FieldProblem[]> {
    const found: FieldProblem[] = [];
    const chargers = await d.core.chargers.list();
    found.push(...selectionProblems(b.selection, chargers, d.groups()));
    if (b.kind === 'firmware') {
      const fw = b.firmware;
      if (!fw) found.push({ field: 'firmware', message: 'is required for a firmware campaign ({ fileId } or { url })' });
      else if ((fw.fileId === undefined) === (fw.url === undefined)) found.push({ field: 'firmware', message: 'give exactly one of fileId and url' });
      else if (typeof fw.fileId === 'number' && !(await d.store.file(fw.fileId))) found.push({ field: 'firmware.fileId', message: `no firmware file ${fw.fileId}` });
      if (fw) found.push(...signatureProblems(fw));
      if (b.configuration !== undefined) found.push({ field: 'configuration', message: 'is for configuration campaigns only' });
    }
    if (b.kind === 'configuration') {
      if (!b.configuration) found.push({ field: 'configuration', message: 'is required for a configuration campaign ({ key, value })' });
      else if (typeof b.configuration.key === 'string' && isSecretConfigKey(b.configuration.key)) {
        found.push({ field: 'configuration.key', message: `${b.configuration.key} holds a secret: set it per charger, not for a fleet` });
      } else if (typeof b.configuration.key === 'string' && b.selection) {
        // The way a key is written depends on what each charger speaks, as far as it is known now (a charger may change at its next connection).
        const key = b.configuration.key;
        const targets = select(chargers, b.selection, d.groups());
        const bad = [null, ...targets.map((c) => c.protocol)].map((p) => configurationKeyProblem(key, p)).find((p) => p !== null);
        const who = targets.filter((c) => configurationKeyProblem(key, c.protocol) !== null).map((c) => c.id);
        if (bad) found.push({ field: 'configuration.key', message: `${who.length ? `${who.slice(0, 10).join(', ')}: ` : ''}${bad}` });
      }
      if (b.firmware !== undefined) found.push({ field: 'firmware', message: 'is for firmware campaigns only' });
    }
    if (!found.length && b.selection && !select(chargers, b.selection, d.groups()).length) {
      found.push({ field: 'selection', message: 'matches no approved charger' });
    }
    return found;
  }

  /** One campaign at a time per charger: a Reset during a firmware install, or two installs, would break it. */
  async function refuseBusy(chargerIds: string[], except?: number): Promise<void> {
    const q = d.db('fleet_targets').whereIn('charger_id', chargerIds).whereNotIn('state', [...FINAL]);
    if (except !== undefined) q.whereNot({ campaign_id: except });
    const busy = await q.select('charger_id', 'campaign_id') as Array<{ charger_id: string; campaign_id: number }>;
    if (busy.length) {
      throw ApiError.conflict(`already in a campaign that is not finished: ${busy.slice(0, 10).map((r) => `${r.charger_id} (campaign ${r.campaign_id})`).join(', ')}; finish or cancel it first`);
    }
  }

  async function create(b: CampaignInput, by: string) {
    const chargers = select(await d.core.chargers.list(), b.selection, d.groups());
    return d.engine.serial(async () => {
      await refuseBusy(chargers.map((c) => c.id));
      const at = d.core.clock.iso();
      const name = b.name ?? (b.kind === 'firmware' ? `Firmware ${b.firmware?.fileId ? `file ${b.firmware.fileId}` : 'from URL'}` : `${b.configuration!.key} = ${b.configuration!.value}`);
      const id = await d.db.transaction(async (trx) => {
        const [row] = await trx('fleet_campaigns').insert({
          kind: b.kind, name, state: 'running', selection: JSON.stringify(b.selection), wave_size: b.waveSize,
          file_id: b.firmware?.fileId ?? null, firmware_url: b.firmware?.url ?? null, retries: b.firmware?.retries ?? null,
          retry_interval_s: b.firmware?.retryInterval ?? null, signature: b.firmware?.signature ?? null,
          signing_certificate: b.firmware?.signingCertificate ?? null, config_key: b.configuration?.key ?? null,
          config_value: b.configuration?.value ?? null, reboot: b.configuration?.reboot ?? false, created_by: by, created_at: at,
        }).returning('id');
        const campaignId = Number(typeof row === 'object' && row !== null ? (row as { id: unknown }).id : row);
        // Firmware goes to one charger first (the canary), then in waves; configuration in waves from the start.
        const waveOf = (i: number) => (b.kind === 'firmware' ? (i === 0 ? 0 : 1 + Math.floor((i - 1) / b.waveSize)) : Math.floor(i / b.waveSize));
        const rows: Array<Partial<TargetRow>> = chargers.map((c, i) => ({
          campaign_id: campaignId, charger_id: c.id, position: i, wave: waveOf(i), state: 'pending', old_version: c.firmwareVersion,
        }));
        for (let i = 0; i < rows.length; i += 100) await trx('fleet_targets').insert(rows.slice(i, i + 100));
        return campaignId;
      });
      d.engine.kick();
      return id;
    });
  }

  async function existing(id: number): Promise<CampaignRow> {
    const c = await d.store.campaign(id);
    if (!c) throw ApiError.notFound(`campaign ${id}`);
    return c;
  }

  /** A stopped campaign goes on: its failed and skipped chargers are tried again. */
  const resume = (id: number) => d.engine.serial(async () => {
    const c = await existing(id);
    if (c.state !== 'stopped') throw ApiError.conflict(`campaign ${id} is ${c.state}; only a stopped campaign can be resumed`);
    const again = await d.db('fleet_targets').where({ campaign_id: id }).whereIn('state', ['failed', 'skipped']).pluck('charger_id') as string[];
    await refuseBusy(again, id);
    await d.db('fleet_targets').where({ campaign_id: id }).whereIn('state', ['failed', 'skipped']).update({
      state: 'pending', error: null, note: null, waiting_since: null, firmware_status: null, token_hash: null, finished_at: null, deadline_at: null,
    });
    await d.store.updateCampaign(id, { state: 'running', stop_reason: null });
    d.engine.kick();
  });

  /** Nothing more is sent; chargers already updating are still followed to their result. */
  const cancel = (id: number, by: string) => d.engine.serial(async () => {
    const c = await existing(id);
    if (c.state !== 'running' && c.state !== 'stopped') throw ApiError.conflict(`campaign ${id} is ${c.state} already`);
    const at = d.core.clock.iso();
    await d.db('fleet_targets').where({ campaign_id: id }).whereIn('state', ['pending', 'reboot-wait'])
      .update({ state: 'skipped', note: 'not sent: the campaign was cancelled', finished_at: at });
    await d.store.updateCampaign(id, { state: 'cancelled', finished_at: at, stop_reason: `cancelled by ${by}` });
  });

  return { problems, create, resume, cancel, existing };
}

export type Campaigns = ReturnType<typeof createCampaigns>;
export type { Selection };
