import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Client } from '@temporalio/client';
import { PayloadDecryptionError } from '../../temporal/codec/aes-gcm-codec';
import { RequireRole } from '../auth/auth.decorators';
import { ApiBadRequest, schemaRef } from '../openapi/components';
import { TEMPORAL_CLIENT } from '../tokens';
import { RequestValidationError } from '../validation/request-validation.error';
import { ZodValidationPipe } from '../validation/zod-validation.pipe';
import { codecBodySchema, payloadFromJson, payloadToJson, type CodecBody } from './codec-requests';

/**
 * The remote codec endpoint for the Web UI and `temporal --codec-endpoint`: runs payloads through
 * the same codecs as the API's client (PAYLOAD_ENCRYPTION_KEYS), so people with a token see
 * decrypted payloads; without keys both routes return the payloads unchanged.
 */
@ApiTags('codec')
@Controller('codec')
export class CodecController {
  constructor(@Inject(TEMPORAL_CLIENT) private readonly client: Client) {}

  private get codecs() {
    return this.client.options.loadedDataConverter.payloadCodecs;
  }

  @Post('decode')
  @HttpCode(200)
  @ApiOperation({ operationId: 'decodePayloads', summary: 'Decrypt payloads (viewers)' })
  @ApiBody({ schema: schemaRef('CodecBody') })
  @ApiResponse({ status: 200, description: 'The payloads, decoded, in order', schema: schemaRef('CodecBody') })
  @ApiBadRequest('Not payloads, or one encrypted with a key this API does not hold: `issues` names it')
  async decode(@Body(new ZodValidationPipe(codecBodySchema)) body: CodecBody): Promise<CodecBody> {
    const payloads = [];
    for (const [index, json] of body.payloads.entries()) {
      let decoded = [payloadFromJson(json)];
      try {
        // Codecs undo in reverse order of encoding.
        for (const codec of [...this.codecs].reverse()) decoded = await codec.decode(decoded);
      } catch (err) {
        if (!(err instanceof PayloadDecryptionError)) throw err;
        throw new RequestValidationError([{ path: `payloads[${index}]`, message: err.message }]);
      }
      payloads.push(payloadToJson(decoded[0]!));
    }
    return { payloads };
  }

  @Post('encode')
  @HttpCode(200)
  @RequireRole('operator')
  @ApiOperation({ operationId: 'encodePayloads', summary: 'Encrypt payloads with the current key (operators)' })
  @ApiBody({ schema: schemaRef('CodecBody') })
  @ApiResponse({ status: 200, description: 'The payloads, encoded, in order', schema: schemaRef('CodecBody') })
  @ApiBadRequest('Not payloads: `issues` names the field')
  async encode(@Body(new ZodValidationPipe(codecBodySchema)) body: CodecBody): Promise<CodecBody> {
    let payloads = body.payloads.map(payloadFromJson);
    for (const codec of this.codecs) payloads = await codec.encode(payloads);
    return { payloads: payloads.map(payloadToJson) };
  }
}
