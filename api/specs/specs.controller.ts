import {
  Body,
  ConflictException,
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { SpecLimits } from '../../workflows/spec/schema';
import { validateSpec } from '../../workflows/spec/validate';
import { ApiBadRequest, ApiPathParamFrom, ApiQueryFrom, ApiTooLarge, schemaRef } from '../openapi/components';
import { RequireRole } from '../auth';
import { SPEC_LIMITS, SPEC_STORE } from '../tokens';
import { RequestValidationError } from '../validation/request-validation.error';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { getSpecQuerySchema, specNameSchema, type GetSpecQuery } from './spec-requests';
import { listSpecs, storedSpecView } from './spec-listing';
import { SpecVersionsExhaustedError, type SpecStore } from './spec-store';
import type { ListSpecsResponse, RegisterSpecResponse, StoredSpecView } from './spec-views';

interface StatusSettable {
  status(code: number): unknown;
}

const view = storedSpecView;

@ApiTags('specs')
@Controller('specs')
export class SpecsController {
  constructor(
    @Inject(SPEC_STORE) private readonly store: SpecStore,
    @Inject(SPEC_LIMITS) private readonly limits: SpecLimits,
  ) {}

  @Post()
  @RequireRole('admin')
  @ApiOperation({
    operationId: 'registerSpec',
    summary: 'Register a spec; stores a new version when its content changed',
    description:
      'Besides the schema, a spec must keep within the size limits (steps, step nesting, JSON nesting) and its ' +
      'references must hold: unique step ids, known inputs and steps that have finished by then, no cycles.',
  })
  @ApiBody({ schema: schemaRef('Spec') })
  @ApiResponse({
    status: 201,
    description: 'New version stored',
    schema: schemaRef('RegisterSpecResponse'),
    links: { GetSpec: { operationId: 'getSpec', parameters: { name: '$response.body#/name' } } },
  })
  @ApiResponse({
    status: 200,
    description: 'Same content as the latest version; nothing stored',
    schema: schemaRef('RegisterSpecResponse'),
  })
  @ApiBadRequest('Invalid spec, or beyond a size limit (the issue names the limit and where)')
  @ApiResponse({
    status: 409,
    description: `The spec has used every version up to the highest`,
    schema: schemaRef('Error'),
  })
  @ApiTooLarge()
  async register(
    @Body() body: unknown,
    @Res({ passthrough: true }) res: StatusSettable,
  ): Promise<RegisterSpecResponse> {
    const checked = validateSpec(body, '', this.limits);
    if (!checked.ok) throw new RequestValidationError(checked.issues);
    try {
      const { stored, created } = await this.store.save(checked.spec);
      res.status(created ? 201 : 200);
      return { ...view(stored), created };
    } catch (err) {
      if (err instanceof SpecVersionsExhaustedError) throw new ConflictException(err.message);
      throw err;
    }
  }

  @Get()
  @ApiOperation({
    operationId: 'listSpecs',
    summary: 'The latest version of every registered spec',
    description: 'A stored file that cannot be read is skipped (and logged), never a failure of the listing.',
  })
  @ApiResponse({ status: 200, schema: schemaRef('ListSpecsResponse') })
  list(): Promise<ListSpecsResponse> {
    return listSpecs(this.store);
  }

  @Get(':name')
  @ApiOperation({
    operationId: 'getSpec',
    summary: 'A registered spec: its latest version, or the one given by ?version=',
  })
  @ApiPathParamFrom('name', specNameSchema, { example: 'approval-release' })
  @ApiQueryFrom(getSpecQuerySchema)
  @ApiResponse({ status: 200, schema: schemaRef('StoredSpec') })
  @ApiBadRequest('Invalid name or version')
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
