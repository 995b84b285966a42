/**
 * Which specs are registered, for MCP sessions that show them as resources and prompts and must
 * say when the list changes. A registration in this process is seen at once (the store's
 * onSaved); one made by another process sharing the store directory (the API beside a stdio
 * server) by listing the store every `pollMs` while a session listens.
 */
import type { Spec } from '../../workflows/contracts/spec';
import type { SpecStore } from '../specs/spec-store';

/** Told that the list or a latest version may have changed; listeners compare with what they show. */
export type SpecListener = () => void;

export interface CatalogLogger {
  warn(message: string): void;
}

export class SpecCatalog {
  /** Latest version of each spec as last listed. */
  private known: Map<string, number> | undefined;
  private readonly listeners = new Set<SpecListener>();
  private timer: NodeJS.Timeout | undefined;
  private unhook: (() => void) | undefined;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: SpecStore,
    private readonly pollMs: number,
    private readonly logger: CatalogLogger,
  ) {}

  /** The latest version of every registered spec, name order. */
  async specs(): Promise<Spec[]> {
    const specs: Spec[] = [];
    for (const name of await this.store.names()) {
      const latest = await this.store.get(name);
      if (latest) specs.push(latest.spec);
    }
    return specs;
  }

  /** Tells `listener` of later changes until the returned function is called. */
  subscribe(listener: SpecListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private start(): void {
    this.unhook = this.store.onSaved(() => this.resync());
    this.timer = setInterval(() => this.resync(), this.pollMs);
    this.timer.unref();
    this.resync();
  }

  private stop(): void {
    this.unhook?.();
    this.unhook = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    this.known = undefined;
  }

  /**
   * One listing at a time; a difference from the previous one is told to every listener. The
   * first listing is told too: a listener that listed before it may have missed a registration.
   */
  private resync(): void {
    this.syncing = this.syncing.then(async () => {
      try {
        const specs = await this.specs();
        const previous = this.known;
        this.known = new Map(specs.map((s) => [s.name, s.version ?? 0]));
        const changed =
          !previous || previous.size !== specs.length || specs.some((s) => previous.get(s.name) !== (s.version ?? 0));
        if (changed) for (const listener of [...this.listeners]) listener();
      } catch (err) {
        this.logger.warn(`could not list the spec store: ${(err as Error).message}`);
      }
    });
  }
}
