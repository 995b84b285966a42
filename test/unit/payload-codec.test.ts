/** The AES-256-GCM payload codec: round trips, key rotation, tampering, config errors naming the variable. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, isEncrypted, PayloadDecryptionError } from '../../temporal/codec/aes-gcm-codec';
import {
  dataConverterFromEnv,
  decryptPayloadsInPlace,
  payloadCodecsFromEnv,
} from '../../temporal/codec/data-converter';
import { ENCRYPTION_KEYS_ENV, loadEncryptionKeys } from '../../temporal/codec/encryption-keys';
import { ConfigError } from '../../config/config-errors';

const keyText = () => randomBytes(32).toString('base64');
const codecOf = (value: string) => new AesGcmPayloadCodec(loadEncryptionKeys({ [ENCRYPTION_KEYS_ENV]: value }));
const secret = { prompt: 'the launch codes are 0000', n: 42 };

test('a payload round-trips and its ciphertext holds no plaintext', async () => {
  const codec = codecOf(`k1:${keyText()}`);
  const payload = defaultPayloadConverter.toPayload(secret);
  const [sealed] = await codec.encode([payload]);
  assert.ok(sealed && isEncrypted(sealed));
  assert.equal(Buffer.from(sealed.metadata!['encryption-key-id']!).toString(), 'k1');
  assert.ok(!Buffer.from(sealed.data!).includes('launch codes'));
  const [opened] = await codec.decode([sealed]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(opened!), secret);
  // A fresh nonce each time: the same value never encrypts to the same bytes.
  const [again] = await codec.encode([payload]);
  assert.notDeepEqual(Buffer.from(again!.data!), Buffer.from(sealed.data!));
});

test('rotation: the new key encrypts, the old one still decrypts; a dropped key is named', async () => {
  const oldKey = keyText();
  const before = codecOf(`old:${oldKey}`);
  const [sealedOld] = await before.encode([defaultPayloadConverter.toPayload(secret)]);
  const rotated = codecOf(`new:${keyText()},old:${oldKey}`);
  assert.equal(rotated.currentKeyId, 'new');
  assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([sealedOld!]))[0]!), secret);
  const [sealedNew] = await rotated.encode([defaultPayloadConverter.toPayload(secret)]);
  assert.equal(Buffer.from(sealedNew!.metadata!['encryption-key-id']!).toString(), 'new');
  await assert.rejects(before.decode([sealedNew!]), (err: Error) => {
    assert.ok(err instanceof PayloadDecryptionError);
    assert.match(err.message, /key "new", which is not among PAYLOAD_ENCRYPTION_KEYS \(old\)/);
    return true;
  });
});

test('tampered data, a relabelled key id and plaintext payloads', async () => {
  const key = keyText();
  const codec = codecOf(`a:${key},b:${key}`);
  const [sealed] = await codec.encode([defaultPayloadConverter.toPayload(secret)]);
  const flipped = Buffer.from(sealed!.data!);
  flipped[flipped.length - 20]! ^= 1;
  assert.throws(() => codec.decrypt({ ...sealed, data: flipped }), /failed authentication/);
  // Same key material under another id: the id is authenticated, so it does not open.
  const relabelled = { ...sealed, metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('b') } };
  assert.throws(() => codec.decrypt(relabelled), /failed authentication/);
  assert.throws(() => codec.decrypt({ ...sealed, data: new Uint8Array(10) }), /truncated/);
  // Runs recorded before encryption was turned on stay readable.
  const plain = defaultPayloadConverter.toPayload('hello');
  assert.equal((await codec.decode([plain]))[0], plain);
});

test('decryptPayloadsInPlace opens payloads anywhere in a history-shaped object', async () => {
  const codecs = payloadCodecsFromEnv({ [ENCRYPTION_KEYS_ENV]: `k:${keyText()}` });
  const [input] = await codecs[0]!.encode([defaultPayloadConverter.toPayload(secret)]);
  const [memo] = await codecs[0]!.encode([defaultPayloadConverter.toPayload('memo')]);
  const history = { events: [{ attrs: { input: { payloads: [input] }, memo: { fields: { m: memo } } } }] };
  decryptPayloadsInPlace(history, codecs);
  const event = history.events[0]!.attrs;
  assert.deepEqual(defaultPayloadConverter.fromPayload(event.input.payloads[0]!), secret);
  assert.equal(defaultPayloadConverter.fromPayload(event.memo.fields.m!), 'memo');
  // Without a codec it is left alone.
  const [sealed] = await codecs[0]!.encode([defaultPayloadConverter.toPayload(secret)]);
  const untouched = { p: sealed };
  decryptPayloadsInPlace(untouched, []);
  assert.ok(isEncrypted(untouched.p!));
});

test('PAYLOAD_ENCRYPTION_KEYS: unset means no codec; bad entries name the variable and the entry', () => {
  assert.equal(dataConverterFromEnv({}), undefined);
  assert.deepEqual(loadEncryptionKeys({ [ENCRYPTION_KEYS_ENV]: '  ' }), []);
  const cases: Array<[string, RegExp]> = [
    ['nokey', /entry 1 must be "<key id>:<base64 of 32 bytes>"/],
    [`bad id!:${keyText()}`, /key id "bad id!"/],
    ['k:c2hvcnQ=', /key "k"\): the key must be 32 bytes/],
    [`k:${keyText()},k:${keyText()}`, /entry 2: the key id "k" is listed twice/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => loadEncryptionKeys({ [ENCRYPTION_KEYS_ENV]: value }),
      (err: Error) =>
        err instanceof ConfigError && /PAYLOAD_ENCRYPTION_KEYS/.test(err.message) && message.test(err.message),
      value,
    );
  }
  assert.ok(dataConverterFromEnv({ [ENCRYPTION_KEYS_ENV]: `k:${keyText()}` })?.payloadCodecs?.length === 1);
});
