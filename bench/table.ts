/**
 * The shape of a benchmark result and its two renderings: a fixed-width table for the terminal
 * (and docs/benchmarks.md) and the JSON document written to bench/results.json.
 */

/** One measured figure beside the baseline it is compared with, measured in the same run. */
export interface BenchRow {
  /** Which benchmark produced the row (`sweep-throughput`, `get-token`, …). */
  benchmark: string;
  /** What was measured, e.g. `sweep, 1000 due, concurrency 8`. */
  name: string;
  value: number;
  /** Unit of `value` and `baselineValue`: `credentials/s`, `ms`, `calls`, `bytes`, `ns/call`. */
  unit: string;
  /** What the baseline is. */
  baseline: string;
  baselineValue: number;
  /** `value ÷ baselineValue`; `null` when the baseline is 0. */
  ratio: number | null;
  /** One line saying how to read the ratio. */
  meaning: string;
}

/** A row without its ratio, which {@link row} computes. */
export type BenchRowInput = Omit<BenchRow, 'ratio'>;

/** Completes a row with `ratio = value ÷ baselineValue` (`null` for a zero baseline). */
export function row(input: BenchRowInput): BenchRow {
  const ratio = input.baselineValue === 0 ? null : input.value / input.baselineValue;
  return { ...input, ratio };
}

/** Where and when the figures were measured. */
export interface BenchEnvironment {
  date: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
}

/** The document written to bench/results.json. */
export interface BenchResults {
  environment: BenchEnvironment;
  durationSeconds: number;
  rows: BenchRow[];
  /** Per-benchmark raw figures (samples, call counts by command), for whoever wants to dig. */
  details: Record<string, unknown>;
}

/**
 * A number with as many digits as it deserves: integers grouped by thousands, small values with
 * three significant digits.
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (Number.isInteger(value) || abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.01) return value.toFixed(2);
  return value.toPrecision(2);
}

/** A ratio as `3.42×`; `n/a` when there is none. */
export function formatRatio(ratio: number | null): string {
  if (ratio === null) return 'n/a';
  if (ratio === 0) return '0×';
  return `${ratio >= 100 ? Math.round(ratio).toLocaleString('en-US') : ratio.toPrecision(3)}×`;
}

const COLUMNS = ['benchmark', 'measured', 'value', 'baseline', 'baseline value', 'ratio', 'what the ratio means'];

/** The rows as a Markdown table (readable as is in a terminal); numbers right-aligned. */
export function formatTable(rows: readonly BenchRow[]): string {
  const cells = rows.map((r) => [
    r.benchmark,
    r.name,
    `${formatNumber(r.value)} ${r.unit}`,
    r.baseline,
    `${formatNumber(r.baselineValue)} ${r.unit}`,
    formatRatio(r.ratio),
    r.meaning,
  ]);
  const rightAligned = new Set([2, 4, 5]);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    `| ${values
      .map((v, i) => (rightAligned.has(i) ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (rightAligned.has(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(COLUMNS), rule, ...cells.map(line)].join('\n');
}

/** The JSON text of bench/results.json (two-space indented, newline-terminated). */
export function formatResultsJson(results: BenchResults): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}
