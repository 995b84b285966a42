/** Percentiles and the small formatting every bench table shares. */
import os from 'node:os';

/** Nearest-rank percentile; NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Spread {
  n: number;
  p50: number;
  p95: number;
}

export function spread(values: readonly number[]): Spread {
  return { n: values.length, p50: percentile(values, 50), p95: percentile(values, 95) };
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export function ms(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  return `${v.toFixed(v < 10 ? 1 : 0)} ms`;
}

/** `a / b` as "1.07×" (n/a when either side is missing). */
export function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a';
}

export function fixed(v: number, digits = 1): string {
  return Number.isFinite(v) ? v.toFixed(digits) : 'n/a';
}

/** A markdown table, columns padded so it also reads in a terminal. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** One line naming the machine and its load average (1, 5, 15 min), printed above every table. */
export function machineLine(): string {
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'cpu'}), node ${process.version}, load avg ${load}, ${new Date().toISOString()}`;
}

export const loadAverage = (): string => os.loadavg()[0]!.toFixed(2);
