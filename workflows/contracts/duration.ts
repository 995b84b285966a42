import { z } from 'zod';

// Durations in specs are strings such as "500ms", "30s", "5m", "24h", "2d" (or a number of ms).
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

export type Duration = string | number;

/** 100 years: longer waits are mistakes, and past ~10^15 ms timers and timestamps stop being valid. */
export const MAX_DURATION_MS = 100 * 365 * UNIT_MS.d!;

export function isDuration(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 && value <= MAX_DURATION_MS;
  return typeof value === 'string' && DURATION_RE.test(value.trim()) && durationToMs(value) <= MAX_DURATION_MS;
}

export function durationToMs(value: Duration): number {
  if (typeof value === 'number') return value;
  const match = DURATION_RE.exec(value.trim());
  if (!match) throw new Error(`invalid duration "${value}" (use e.g. 500ms, 30s, 5m, 24h, 2d)`);
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] as string] as number));
}

/** A duration field of a spec or a config file. */
export const durationSchema = z.union([z.string(), z.number().nonnegative()]).refine(isDuration, {
  message: 'invalid duration (use e.g. 500ms, 30s, 5m, 24h, 2d, or milliseconds; at most 36500d)',
});
