/**
 * The data converter every process shares (API, workers, replay): the default payload converter
 * plus, when PAYLOAD_ENCRYPTION_KEYS is set, the AES-256-GCM codec. Raw history readers decrypt
 * with the same codec through `decryptPayloadsInPlace`.
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { AesGcmPayloadCodec, isEncrypted } from './aes-gcm-codec';
import { loadEncryptionKeys } from './encryption-keys';

/** The codecs PAYLOAD_ENCRYPTION_KEYS asks for: none when it is unset. */
export function payloadCodecsFromEnv(env: NodeJS.ProcessEnv = process.env): PayloadCodec[] {
  const keys = loadEncryptionKeys(env);
  return keys.length > 0 ? [new AesGcmPayloadCodec(keys)] : [];
}

/** The data converter for clients, workers and replay; undefined (the SDK's default) without keys. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const payloadCodecs = payloadCodecsFromEnv(env);
  return payloadCodecs.length > 0 ? { payloadCodecs } : undefined;
}

/** The AES codec among `codecs`, if any (the only codec this project installs). */
export function encryptionCodecOf(codecs: readonly PayloadCodec[] | undefined): AesGcmPayloadCodec | undefined {
  return codecs?.find((c): c is AesGcmPayloadCodec => c instanceof AesGcmPayloadCodec);
}

function looksLikePayload(value: object): value is Payload {
  const v = value as { data?: unknown; metadata?: unknown };
  return v.data instanceof Uint8Array && typeof v.metadata === 'object' && v.metadata !== null;
}

/**
 * Replaces every encrypted payload found anywhere inside `value` (a history, an event, a memo map)
 * by its plaintext, in place, and returns `value`. Without a codec nothing changes.
 */
export function decryptPayloadsInPlace<T>(value: T, codecs: readonly PayloadCodec[] | undefined): T {
  const codec = encryptionCodecOf(codecs);
  if (!codec) return value;
  const visit = (node: unknown): unknown => {
    if (node === null || typeof node !== 'object' || node instanceof Uint8Array) return node;
    if (looksLikePayload(node)) {
      if (!isEncrypted(node)) return node;
      const plain = codec.decrypt(node);
      node.metadata = plain.metadata;
      node.data = plain.data;
      return node;
    }
    if (Array.isArray(node)) {
      node.forEach(visit);
      return node;
    }
    for (const key of Object.keys(node)) visit((node as Record<string, unknown>)[key]);
    return node;
  };
  visit(value);
  return value;
}

/** The codecs of a client (the API's, or an activity's): what its raw reads must decrypt with. */
export function codecsOf(client: { options: { loadedDataConverter: { payloadCodecs: PayloadCodec[] } } }) {
  return client.options.loadedDataConverter.payloadCodecs;
}
