/** Load shapes: calls fired at a fixed rate (open loop), and a list worked through a few at a time. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface Paced<T> {
  /** Send → settle of each call that succeeded, in ms. */
  latencies: number[];
  /** What each successful call returned, in the order they settled. */
  values: T[];
  errors: unknown[];
  /** The rate actually sent at: below the one asked for when this process could not keep up. */
  sentPerSecond: number;
}

/**
 * Calls `call(i)` `perSecond` times a second for `seconds`, each on its own schedule whether or
 * not earlier calls have answered (an open loop, as independent clients would), then waits for
 * every call to settle.
 */
export async function atRate<T>(
  perSecond: number,
  seconds: number,
  call: (i: number) => Promise<T>,
): Promise<Paced<T>> {
  const count = Math.max(1, Math.round(perSecond * seconds));
  const result: Paced<T> = { latencies: [], values: [], errors: [], sentPerSecond: NaN };
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  let lastSent = t0;
  for (let i = 0; i < count; i++) {
    const wait = t0 + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await sleep(wait);
    const sent = (lastSent = performance.now());
    pending.push(
      call(i).then(
        (value) => {
          result.latencies.push(performance.now() - sent);
          result.values.push(value);
        },
        (err: unknown) => void result.errors.push(err),
      ),
    );
  }
  await Promise.all(pending);
  result.sentPerSecond = count > 1 ? ((count - 1) * 1000) / (lastSent - t0) : perSecond;
  return result;
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function bounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** The first error's message and how many there were, for a table cell; "" for none. */
export function errorNote(errors: readonly unknown[]): string {
  if (errors.length === 0) return '';
  const first = errors[0] instanceof Error ? errors[0].message : String(errors[0]);
  return `${errors.length} failed (first: ${first.slice(0, 120)})`;
}
