import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { EXAMPLES_DIR, SPEC_STORE } from '../tokens';
import { registerExampleSpecs } from './example-specs';
import type { SpecStore } from './spec-store';

/** Registers the example specs before the API takes requests, so their names can be started at once. */
@Injectable()
export class ExampleSpecsLoader implements OnApplicationBootstrap {
  private readonly logger = new Logger('ExampleSpecs');

  constructor(
    @Inject(SPEC_STORE) private readonly store: SpecStore,
    @Inject(EXAMPLES_DIR) private readonly dir: string | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.dir === null) return;
    const { registered, failed } = await registerExampleSpecs(this.store, this.dir, this.logger);
    const names = registered.map((r) => `${r.name} v${r.version}${r.created ? ' (new)' : ''}`);
    this.logger.log(`registered ${names.length} example spec(s)${names.length ? `: ${names.join(', ')}` : ''}`);
    if (failed.length) this.logger.warn(`${failed.length} example spec file(s) skipped, see the errors above`);
  }
}
