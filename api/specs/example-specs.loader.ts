import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { LlmConfig } from '../../activities/llm/config/types';
import { EXAMPLES_DIR, LLM_MODELS, SPEC_STORE } from '../tokens';
import { modelIssues } from '../workflows/model-check';
import { registerExampleSpecs } from './example-specs';
import type { SpecStore } from './spec-store';

/** Registers the example specs before the API takes requests, so their names can be started at once. */
@Injectable()
export class ExampleSpecsLoader implements OnApplicationBootstrap {
  private readonly logger = new Logger('ExampleSpecs');

  constructor(
    @Inject(SPEC_STORE) private readonly store: SpecStore,
    @Inject(EXAMPLES_DIR) private readonly dir: string | null,
    @Inject(LLM_MODELS) private readonly llm: LlmConfig | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.dir === null) return;
    const { registered, failed } = await registerExampleSpecs(this.store, this.dir, this.logger);
    const names = registered.map((r) => `${r.name} v${r.version}${r.created ? ' (new)' : ''}`);
    this.logger.log(`registered ${names.length} example spec(s)${names.length ? `: ${names.join(', ')}` : ''}`);
    if (failed.length) this.logger.warn(`${failed.length} example spec file(s) skipped, see the errors above`);
    if (!this.llm) return;
    // Say now, not at the first run, which examples need models this deployment does not have.
    for (const { name } of registered) {
      const spec = (await this.store.get(name))?.spec;
      const defaults = Object.fromEntries(
        Object.entries(spec?.inputs ?? {}).flatMap(([k, d]) => (d.default === undefined ? [] : [[k, d.default]])),
      );
      const [first] = spec ? modelIssues(spec, defaults, {}, this.llm) : [];
      if (first) this.logger.warn(`example "${name}" cannot run until its model is configured: ${first.message}`);
    }
  }
}
