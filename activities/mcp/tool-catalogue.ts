import type { Tool } from '@modelcontextprotocol/sdk/types.js';

export interface CatalogueEntry {
  tools: Tool[];
  fetchedAt: number;
}

/**
 * One server's `tools/list`, cached for `ttlMs`. `invalidate()` (on `list_changed` or a new
 * session) drops the entry; a fetch that was already running when that happened is not
 * stored, so a stale list never outlives the notification that made it stale.
 */
export class ToolCatalogueCache {
  private entry?: CatalogueEntry;
  private pending?: Promise<CatalogueEntry>;
  private generation = 0;
  /** How many times the list was fetched from the server. */
  fetches = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly fetchList: () => Promise<Tool[]>,
    private readonly now: () => number,
  ) {}

  /** The cached list, whatever its age; undefined before the first fetch. */
  peek(): CatalogueEntry | undefined {
    return this.entry;
  }

  isFresh(): boolean {
    return this.entry !== undefined && this.now() - this.entry.fetchedAt < this.ttlMs;
  }

  async get(): Promise<CatalogueEntry> {
    if (this.entry && this.isFresh()) return this.entry;
    return this.refresh();
  }

  /** Fetches now unless a fetch of the current generation is running, whose result is shared. */
  refresh(): Promise<CatalogueEntry> {
    if (this.pending) return this.pending;
    const generation = this.generation;
    this.fetches++;
    const pending = this.fetchList().then(
      (tools) => {
        const entry = { tools, fetchedAt: this.now() };
        if (this.pending === pending) this.pending = undefined;
        if (generation !== this.generation) return this.refresh();
        this.entry = entry;
        return entry;
      },
      (err: unknown) => {
        if (this.pending === pending) this.pending = undefined;
        throw err;
      },
    );
    this.pending = pending;
    return pending;
  }

  invalidate(): void {
    this.generation++;
    this.entry = undefined;
    this.pending = undefined;
  }
}
