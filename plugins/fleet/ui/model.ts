// Shapes of the fleet API as the page uses them (see plugins/fleet/README.md); type-only, erased from the bundle.
import type { Tone } from '$lib/format.ts';
import type { CampaignState, TargetState } from '../store.ts';
export type { CampaignView, FirmwareFile, Selection, TargetView, CampaignState, TargetState } from '../store.ts';

export interface Group { name: string; chargerIds: string[] }
export interface Selected { id: string; name: string | null; online: boolean; vendor: string | null; model: string | null; firmwareVersion: string | null }

export const campaignTone = (s: CampaignState): Tone =>
  (s === 'running' ? 'blue' : s === 'completed' ? 'green' : s === 'stopped' ? 'red' : 'grey');

export const targetTone = (s: TargetState): Tone =>
  (s === 'done' ? 'green' : s === 'failed' ? 'red' : s === 'rejected' ? 'amber' : s === 'skipped' ? 'grey' : s === 'pending' ? 'grey' : 'blue');

/** The order the counts are shown in. */
export const TARGET_STATES: TargetState[] = ['done', 'updating', 'reboot-wait', 'rebooting', 'pending', 'rejected', 'failed', 'skipped'];

/** Bytes as people read them. */
export function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** What a selection says, in words. */
export function selectionText(s: { chargerIds?: string[]; group?: string; vendor?: string; model?: string; firmwareVersion?: string }): string {
  const parts: string[] = [];
  if (s.group) parts.push(`group ${s.group}`);
  if (s.vendor) parts.push(`vendor ${s.vendor}`);
  if (s.model) parts.push(`model ${s.model}`);
  if (s.firmwareVersion) parts.push(`firmware ${s.firmwareVersion}`);
  if (s.chargerIds) parts.push(s.chargerIds.length > 4 ? `${s.chargerIds.length} chargers` : s.chargerIds.join(', '));
  return parts.join(' · ');
}
