import { Body, Controller, Get, Inject, NotFoundException, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiQueryFrom, schemaRef } from '../openapi/components';
import { SPEC_STORE } from '../tokens';
import { RequestValidationError } from '../validation/request-validation.error';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { validateSpec } from '../../workflows/spec/validate';
import { getSpecQuerySchema, specNameSchema, type GetSpecQuery } from './spec-requests';
import type { SpecStore, StoredSpec } from './spec-store';
import type { StoredSpecView } from './spec-views';

interface StatusSettable {
  status(code: number): unknown;
}

const view = (stored: StoredSpec): StoredSpecView => ({
  name: stored.name,
  version: stored.version,
  registeredAt: stored.registeredAt,
  spec: stored.spec as unknown as Record<string, unknown>,
});

@ApiTags('specs')
@Controller('specs')
export class SpecsController {
  constructor(@Inject(SPEC_STORE) private readonly store: SpecStore) {}

  @Post()
  @ApiOperation({ summary: 'Register a spec; stores a new version when its content changed' })
  @ApiBody({ schema: schemaRef('Spec') })
  @ApiResponse({ status: 201, description: 'New version stored', schema: schemaRef('RegisterSpecResponse') })
  @ApiResponse({
    status: 200,
    description: 'Same content as the latest version; nothing stored',
    schema: schemaRef('RegisterSpecResponse'),
  })
  @ApiResponse({ status: 400, description: 'Invalid spec', schema: schemaRef('ValidationError') })
  async register(@Body() body: unknown, @Res({ passthrough: true }) res: StatusSettable) {
    const checked = validateSpec(body);
    if (!checked.ok) throw new RequestValidationError(checked.issues);
    const { stored, created } = await this.store.save(checked.spec);
    res.status(created ? 201 : 200);
    return { ...view(stored), created };
  }

  @Get()
  @ApiOperation({ summary: 'The latest version of every registered spec' })
  @ApiResponse({ status: 200, schema: schemaRef('ListSpecsResponse') })
  async list() {
    const specs = [];
    for (const name of await this.store.names()) {
      const latest = await this.store.get(name);
      if (!latest) continue;
      specs.push({
        name,
        version: latest.version,
        versions: await this.store.versions(name),
        description: latest.spec.description,
        registeredAt: latest.registeredAt,
      });
    }
    return { specs };
  }

  @Get(':name')
  @ApiOperation({ summary: 'A registered spec: its latest version, or the one given by ?version=' })
  @ApiParam({ name: 'name', schema: { type: 'string' }, example: 'approval-release' })
  @ApiQueryFrom(getSpecQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('StoredSpec') })
  @ApiResponse({ status: 404, description: 'No such spec or version', schema: schemaRef('Error') })
  async get(
    @Param('name', new ZodValidationPipe(specNameSchema, 'name')) name: string,
    @Query(new ZodValidationPipe(getSpecQuerySchema)) query: GetSpecQuery,
  ): Promise<StoredSpecView> {
    const stored = await this.store.get(name, query.version);
    if (!stored) {
      throw new NotFoundException(
        query.version === undefined
          ? `spec "${name}" is not registered`
          : `spec "${name}" has no version ${query.version}`,
      );
    }
    return view(stored);
  }
}
