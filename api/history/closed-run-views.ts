/**
 * What GET /workflows/:id answered for closed runs, kept: a closed execution never changes, so
 * its answer (status, progress, result or failure) is served again without a Temporal call while
 * fresh. Past FRESH_MS it is confirmed rather than read again: the id may have been run again
 * since (a reset from the Web UI), and the reruns it lists come and go (new ones, their status),
 * so the caller describes the id and lists its reruns (two calls) before serving it again.
 * A rerun or retry started through this API forgets its source's view at once.
 *
 * Bounded by entries and by the size of their JSON, least recently used dropped first; a view
 * larger than MAX_VIEW_CHARS (a large result) is not kept.
 */
import { Injectable } from '@nestjs/common';
import type { RunDetail } from '../workflows/run-views';

/** Served without a Temporal call for this long after it was read or confirmed. */
export const CLOSED_VIEW_FRESH_MS = 5_000;
const MAX_VIEWS = 2_000;
const MAX_TOTAL_CHARS = 64 * 1024 * 1024;
const MAX_VIEW_CHARS = 1024 * 1024;

export interface ClosedView<T> {
  view: T;
  /** The execution it describes: still the id's latest one if a describe says so. */
  runId: string;
  /** When it was read or last confirmed (Date.now()). */
  checkedAt: number;
}

interface Entry<T> extends ClosedView<T> {
  chars: number;
}

export class ClosedRunCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private totalChars = 0;

  constructor(
    private readonly freshMs = CLOSED_VIEW_FRESH_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The view kept for `key` and whether it may be served as is. */
  get(key: string): (ClosedView<T> & { fresh: boolean }) | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return { view: entry.view, runId: entry.runId, checkedAt: entry.checkedAt, fresh: this.isFresh(entry) };
  }

  set(key: string, runId: string, view: T): void {
    this.forget(key);
    const chars = JSON.stringify(view)?.length ?? 0;
    if (chars > MAX_VIEW_CHARS) return;
    this.entries.set(key, { view, runId, checkedAt: this.now(), chars });
    this.totalChars += chars;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= MAX_VIEWS && this.totalChars <= MAX_TOTAL_CHARS) break;
      this.entries.delete(oldest);
      this.totalChars -= entry.chars;
    }
  }

  forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.totalChars -= entry.chars;
  }

  get size(): number {
    return this.entries.size;
  }

  private isFresh(entry: Entry<T>): boolean {
    const age = this.now() - entry.checkedAt;
    return age >= 0 && age < this.freshMs;
  }
}

/** The API's one cache of closed runs' GET answers (shared by the read path and the rerun path). */
@Injectable()
export class ClosedRunViews extends ClosedRunCache<RunDetail> {
  constructor() {
    super();
  }
}
