import ocppRpc from 'ocpp-rpc';
import {
  DEVICE_MODEL_LIMITS, pruneUnreported, reportRows, upsertReported, type ReportData, type ReportRow,
} from '../../device-model/store.js';
import type { Handler } from '../context.js';
import { LIMITS, printable } from '../limits.js';

const { createRPCError } = ocppRpc;

export interface NotifyReportReq {
  requestId: number;
  generatedAt: string;
  seqNo: number;
  tbc?: boolean;
  reportData?: ReportData[];
}

function badId(field: string, id: number | undefined): boolean {
  return id !== undefined && (id < 0 || id > LIMITS.maxConnectorId);
}

/** Bounds the schema leaves open: entries per part, parts per report, EVSE and connector ids, one attribute of each type. */
function checkPart(p: NotifyReportReq): void {
  const { maxItemsPerPart, maxParts } = DEVICE_MODEL_LIMITS;
  if (p.seqNo < 0 || p.seqNo > maxParts) throw createRPCError('PropertyConstraintViolation', `seqNo ${p.seqNo} is outside 0–${maxParts}`);
  const data = p.reportData ?? [];
  if (data.length > maxItemsPerPart) throw createRPCError('OccurrenceConstraintViolation', `reportData has more than ${maxItemsPerPart} entries`);
  data.forEach((d, i) => {
    const evse = d.component.evse;
    if (badId('id', evse?.id) || badId('connectorId', evse?.connectorId)) {
      throw createRPCError('PropertyConstraintViolation', `reportData[${i}].component.evse names an EVSE or connector outside 0–${LIMITS.maxConnectorId}`);
    }
    const types = d.variableAttribute.map((a) => a.type ?? 'Actual');
    if (new Set(types).size !== types.length) {
      throw createRPCError('OccurrenceConstraintViolation', `reportData[${i}].variableAttribute lists an attribute type twice`);
    }
  });
}

/**
 * Stores a part of a device model report. Only a report the core asked this very charger for is taken
 * (its requestId is the id of the GetBaseReport sent to it); any other is accepted and dropped, so no charger
 * can write into another's model. The last part (tbc false) finishes the report and drops what it no longer lists.
 */
export const notifyReport: Handler<NotifyReportReq, Record<string, never>> = async (ctx, cp, p) => {
  checkPart(p);
  const report = await ctx.db<ReportRow>('device_model_reports').where({ id: p.requestId, charger_id: cp.id }).first();
  if (!report || report.finished_at) {
    ctx.log.warn(`NotifyReport from ${cp.id} for request ${printable(p.requestId, 20)}: ${report ? 'that report is finished' : 'no such report was asked of it'}; ignored`);
    return {};
  }
  const at = ctx.clock.iso();
  const rows = reportRows(cp.id, p.reportData ?? [], report.id, at);
  if (report.variables + rows.length > DEVICE_MODEL_LIMITS.maxRowsPerReport) {
    throw createRPCError('OccurrenceConstraintViolation', `the report would hold more than ${DEVICE_MODEL_LIMITS.maxRowsPerReport} attributes`);
  }
  // A part resent after a reconnect (same seqNo) rewrites the same rows and is not counted twice.
  const fresh = report.last_seq_no === null || p.seqNo > Number(report.last_seq_no);
  const finished = !p.tbc;
  const patch = {
    parts: Number(report.parts) + (fresh ? 1 : 0),
    variables: Number(report.variables) + (fresh ? rows.length : 0),
    last_seq_no: fresh ? p.seqNo : report.last_seq_no,
    ...(finished ? { finished_at: at } : {}),
  };
  await ctx.writer.write(async (trx) => {
    await upsertReported(trx, rows);
    await trx('device_model_reports').where({ id: report.id }).update(patch);
    if (finished && report.kind === 'FullInventory') await pruneUnreported(trx, report);
  });
  ctx.bus.emit('charger.deviceModel', {
    chargerId: cp.id, at, requestId: report.id, state: finished ? 'finished' : 'receiving', parts: patch.parts, variables: patch.variables,
  });
  return {};
};
