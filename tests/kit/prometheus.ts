import parsePrometheusTextFormat, { type ParsedFamily } from 'parse-prometheus-text-format';
import type { TestApp } from './app.js';

export type Labels = Record<string, string>;

/** One label set of a histogram: its cumulative buckets by upper bound (ascending, +Inf last), sum and count. */
export interface HistogramSeries { labels: Labels; buckets: Array<{ le: number; count: number }>; sum: number; count: number }

/** GET /metrics read by a Prometheus text-format parser (parse-prometheus-text-format). */
export interface Scrape {
  status: number;
  contentType: string;
  text: string;
  /** Every metric family by name: COUNTER, GAUGE, HISTOGRAM, ... */
  types: Map<string, string>;
  /** The samples of a counter or gauge. */
  samples(name: string): Array<{ labels: Labels; value: number }>;
  /** The value of the sample with exactly these labels, or undefined. */
  value(name: string, labels?: Labels): number | undefined;
  histogram(name: string): HistogramSeries[];
}

const sameLabels = (a: Labels, b: Labels) => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

const byName = (families: ParsedFamily[]) => {
  const out = new Map<string, ParsedFamily['metrics']>();
  for (const f of families) out.set(f.name, [...(out.get(f.name) ?? []), ...f.metrics]);
  return out;
};

/** Fetches /metrics with a bearer token (none: `null`) and parses it; a status other than 200 leaves the parse empty. */
export async function scrape(t: TestApp, token: string | null): Promise<Scrape> {
  const res = await fetch(`${t.url}/metrics`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  const ok = res.status === 200;
  const families = ok ? parsePrometheusTextFormat(text) : [];
  // parse-prometheus-text-format 1.1.1 folds a labelled histogram into one sample without its labels, sums and
  // counts (its issue #13). Read with the histograms' TYPE lines made untyped, the same parser keeps each
  // _bucket, _sum and _count sample with its labels.
  const plain = byName(ok ? parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped')) : []);
  const samples = (name: string) => (plain.get(name) ?? []).map((m) => ({ labels: m.labels ?? {}, value: Number(m.value) }));
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    text,
    types: new Map(families.map((f) => [f.name, f.type])),
    samples,
    value: (name, labels = {}) => samples(name).find((s) => sameLabels(s.labels, labels))?.value,
    histogram(name) {
      const series: HistogramSeries[] = [];
      for (const { labels: { le, ...labels }, value } of samples(`${name}_bucket`)) {
        let s = series.find((x) => sameLabels(x.labels, labels));
        if (!s) {
          s = { labels, buckets: [], sum: NaN, count: NaN };
          series.push(s);
        }
        s.buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: value });
      }
      for (const s of series) {
        s.buckets.sort((a, b) => a.le - b.le);
        s.sum = samples(`${name}_sum`).find((x) => sameLabels(x.labels, s.labels))?.value ?? NaN;
        s.count = samples(`${name}_count`).find((x) => sameLabels(x.labels, s.labels))?.value ?? NaN;
      }
      return series;
    },
  };
}
