import { type CommandAnswer, type CommandRunner, neutral, statusAnswer } from './neutral.js';

/** A root a charger trusts: the one that signed the central system's certificate, or the manufacturer's (firmware). */
export type RootKind = 'csms' | 'manufacturer';

/** How OCPP names one installed certificate (both versions alike). */
export interface CertificateHashData {
  hashAlgorithm: 'SHA256' | 'SHA384' | 'SHA512';
  issuerNameHash: string;
  issuerKeyHash: string;
  serialNumber: string;
}

export interface CertificateSignedInput {
  /** PEM: the leaf first, then the CA certificates. */
  chain: string;
  kind: 'charger' | 'v2g';
}

export interface InstallRootInput { kind: RootKind; certificate: string }

export interface InstalledInput {
  /** Which roots to list; 1.6 lists one kind per call (the first; csms when left out), 2.0.1 every kind when left out. */
  kinds?: RootKind[];
}

export interface InstalledAnswer {
  /** Accepted, or NotFound when the charger holds none of that kind. */
  status: string;
  certificates: Array<CertificateHashData & { kind: string }>;
}

const ROOT_16: Record<RootKind, string> = { csms: 'CentralSystemRootCertificate', manufacturer: 'ManufacturerRootCertificate' };
const ROOT_201: Record<RootKind, string> = { csms: 'CSMSRootCertificate', manufacturer: 'ManufacturerRootCertificate' };
const kindOf = (words: Record<RootKind, string>, word: unknown): string =>
  (Object.entries(words).find(([, w]) => w === word)?.[0]) ?? String(word ?? 'unknown');

const hashData = (h: CertificateHashData): CertificateHashData =>
  ({ hashAlgorithm: h.hashAlgorithm, issuerNameHash: h.issuerNameHash, issuerKeyHash: h.issuerKeyHash, serialNumber: h.serialNumber });

/** Charger certificates and the roots a charger trusts (2.0.1 block M, the 1.6 security whitepaper). */
export function certificateCommands(runner: CommandRunner) {
  return {
    certificateSigned: neutral<CertificateSignedInput, CommandAnswer>(runner, 'certificateSigned', {
      'ocpp1.6': (i) => ({ action: 'CertificateSigned', payload: { certificateChain: i.chain }, answer: statusAnswer() }),
      'ocpp2.0.1': (i) => ({
        action: 'CertificateSigned',
        payload: { certificateChain: i.chain, certificateType: i.kind === 'v2g' ? 'V2GCertificate' : 'ChargingStationCertificate' },
        answer: statusAnswer(),
      }),
    }),

    installRootCertificate: neutral<InstallRootInput, CommandAnswer>(runner, 'installRootCertificate', {
      'ocpp1.6': (i) => ({ action: 'InstallCertificate', payload: { certificateType: ROOT_16[i.kind], certificate: i.certificate }, answer: statusAnswer() }),
      'ocpp2.0.1': (i) => ({ action: 'InstallCertificate', payload: { certificateType: ROOT_201[i.kind], certificate: i.certificate }, answer: statusAnswer() }),
    }),

    installedCertificates: neutral<InstalledInput, InstalledAnswer>(runner, 'installedCertificates', {
      'ocpp1.6': (i) => {
        const kind = i.kinds?.[0] ?? 'csms';
        return {
          action: 'GetInstalledCertificateIds', payload: { certificateType: ROOT_16[kind] },
          answer: (reply) => {
            const r = reply as { status?: string; certificateHashData?: CertificateHashData[] } | null;
            return { status: String(r?.status ?? 'Unknown'), certificates: (r?.certificateHashData ?? []).map((h) => ({ ...hashData(h), kind })) };
          },
        };
      },
      'ocpp2.0.1': (i) => ({
        action: 'GetInstalledCertificateIds', payload: i.kinds?.length ? { certificateType: i.kinds.map((k) => ROOT_201[k]) } : {},
        answer: (reply) => {
          const r = reply as { status?: string; certificateHashDataChain?: Array<{ certificateType: string; certificateHashData: CertificateHashData }> } | null;
          return {
            status: String(r?.status ?? 'Unknown'),
            certificates: (r?.certificateHashDataChain ?? []).map((c) => ({ ...hashData(c.certificateHashData), kind: kindOf(ROOT_201, c.certificateType) })),
          };
        },
      }),
    }),

    deleteCertificate: neutral<CertificateHashData, CommandAnswer>(runner, 'deleteCertificate', {
      'ocpp1.6': (i) => ({ action: 'DeleteCertificate', payload: { certificateHashData: hashData(i) }, answer: statusAnswer() }),
      'ocpp2.0.1': (i) => ({ action: 'DeleteCertificate', payload: { certificateHashData: hashData(i) }, answer: statusAnswer() }),
    }),
  };
}
