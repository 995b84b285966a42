/**
 * The remote codec protocol the Temporal Web UI and CLI speak (`POST <endpoint>/encode|decode`):
 * `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }` in both directions.
 */
import { z } from 'zod';
import type { Payload } from '@temporalio/common';

export const MAX_CODEC_PAYLOADS = 1000;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const base64 = z.string().regex(BASE64, 'must be base64');

export const codecPayloadSchema = z
  .object({
    metadata: z.record(z.string(), base64).optional().meta({ description: 'Metadata values, base64.' }),
    data: base64.optional().meta({ description: 'The payload bytes, base64.' }),
  })
  .meta({ description: 'A Temporal payload in the protobuf JSON mapping.' });

export const codecBodySchema = z
  .object({
    payloads: z.array(codecPayloadSchema).max(MAX_CODEC_PAYLOADS, `must hold at most ${MAX_CODEC_PAYLOADS} payloads`),
  })
  .meta({ description: 'Payloads to encode or decode, in order.' });

export type CodecPayloadJson = z.infer<typeof codecPayloadSchema>;
export type CodecBody = z.infer<typeof codecBodySchema>;

export function payloadFromJson(json: CodecPayloadJson): Payload {
  const metadata = Object.fromEntries(
    Object.entries(json.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
  );
  return { metadata, data: new Uint8Array(Buffer.from(json.data ?? '', 'base64')) };
}

export function payloadToJson(payload: Payload): CodecPayloadJson {
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}
