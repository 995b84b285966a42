/**
 * The payload encryption keys, from PAYLOAD_ENCRYPTION_KEYS: `id:base64key[,id:base64key…]`,
 * 32-byte AES-256 keys, the first one encrypts and every one decrypts (rotation: put the new key
 * first and keep the old ones while histories encrypted with them are retained).
 */
import { ConfigError } from '../../config/config-errors';

export const ENCRYPTION_KEYS_ENV = 'PAYLOAD_ENCRYPTION_KEYS';

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const KEY_BYTES = 32;

/** The configured keys, current first; an empty list when the variable is unset or empty (no encryption). */
export function loadEncryptionKeys(env: NodeJS.ProcessEnv = process.env): EncryptionKey[] {
  const raw = env[ENCRYPTION_KEYS_ENV]?.trim();
  if (!raw) return [];
  const problems: string[] = [];
  const keys: EncryptionKey[] = [];
  raw.split(',').forEach((entry, index) => {
    const [id, material, ...rest] = entry.trim().split(':');
    const where = `entry ${index + 1}`;
    if (id === undefined || material === undefined || rest.length > 0) {
      problems.push(`${where} must be "<key id>:<base64 of 32 bytes>"`);
    } else if (!KEY_ID.test(id)) {
      problems.push(`${where}: the key id "${id}" must be 1–64 letters, digits, ".", "_" or "-"`);
    } else if (keys.some((k) => k.id === id)) {
      problems.push(`${where}: the key id "${id}" is listed twice`);
    } else if (!BASE64.test(material) || Buffer.from(material, 'base64').length !== KEY_BYTES) {
      problems.push(`${where} (key "${id}"): the key must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
    } else {
      keys.push({ id, key: Buffer.from(material, 'base64') });
    }
  });
  if (problems.length > 0) {
    throw new ConfigError(
      'environment',
      problems.map((message) => ({ key: ENCRYPTION_KEYS_ENV, message })),
    );
  }
  return keys;
}
