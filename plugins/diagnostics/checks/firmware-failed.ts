import { defineCheck } from '../check.js';

const FIRMWARE_FAILED = new Set(['DownloadFailed', 'InstallationFailed', 'InstallVerificationFailed', 'InvalidSignature', 'SignatureError']);

const firmwareWords: Record<string, { cause: string; action: string }> = {
  DownloadFailed: {
    cause: 'the charger could not download the firmware file: a wrong or expired URL, the file server unreachable from the charger, or a network too slow or unstable (4G)',
    action: 'Check that the firmware URL opens from the charger\'s network (not only from your PC), then send UpdateFirmware again.',
  },
  InstallationFailed: {
    cause: 'the charger downloaded the firmware but could not install it: a file for another model or version, a corrupt download, or not enough space',
    action: 'Check with the manufacturer that the firmware fits this model and current version; download it again and retry; the charger keeps running its old firmware.',
  },
};
const signature = {
  cause: 'the firmware file\'s signature or checksum did not verify: a corrupt download, the wrong file, or a tampered file',
  action: 'Get the firmware file again from the manufacturer and retry; do not install unsigned files.',
};

export default defineCheck({
  id: 'firmware-failed',
  summary: 'A firmware update failed (download, installation, signature) or a diagnostics upload failed; clears on Installed / Uploaded',
  config: {},
  state: () => null,
  on: {
    'firmware.status': async (e, cx) => {
      if (e.status === 'Installed') {
        await cx.clear({ chargerId: e.chargerId, subKey: 'firmware' });
        return;
      }
      if (!FIRMWARE_FAILED.has(e.status)) return;
      const words = firmwareWords[e.status] ?? signature;
      await cx.raise({
        chargerId: e.chargerId, subKey: 'firmware', severity: 'warning', since: e.at,
        problem: `Firmware update of ${e.chargerId} failed (${e.status}).`,
        cause: words.cause, action: words.action, detail: { status: e.status },
      });
    },
    'diagnostics.status': async (e, cx) => {
      if (e.status === 'Uploaded') {
        await cx.clear({ chargerId: e.chargerId, subKey: 'diagnostics' });
        return;
      }
      if (e.status !== 'UploadFailed') return;
      await cx.raise({
        chargerId: e.chargerId, subKey: 'diagnostics', severity: 'info', since: e.at,
        problem: `Charger ${e.chargerId} could not upload its diagnostics log (${e.reported}).`,
        cause: 'the upload address is not reachable from the charger (wrong public URL of the appliance, a firewall, or no route from the charger\'s network), or the charger only supports FTP',
        action: 'Check that the appliance\'s public URL (diagnostics.uploadBaseUrl or http.publicUrl) is reachable from the charger\'s network and collect the logs again; for an FTP-only charger enable diagnostics.ftp and collect with via: ftp. The diagnostics file list says what the appliance saw of the attempt.',
        detail: { status: e.reported },
      });
    },
  },
});
