/**
 * The AES-256-GCM keys of the `encryption` option: the first seals, every key opens (rotation).
 * A sealed blob is `header`, the key id (1 length byte + UTF-8), a 12-byte IV, the ciphertext and
 * the 16-byte tag; the authenticated data is the header with the key id, and what the caller binds
 * the blob to (the item's table key). Each key also gives, through HKDF, the HMAC key of the user
 * ids the per-user index holds.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { InvalidOptionError, SessionIntegrityError } from '../errors.js';

/** One AES-256 key. @public */
export interface EncryptionKey {
  /** 32 bytes: a Buffer, or their hex (64 characters) or base64/base64url text. */
  key: Buffer | Uint8Array | string;
  /** Stored with each sealed item to find its key (1-255 bytes). @defaultValue a fingerprint of the key */
  keyId?: string;
}

const ivBytes = 12;
const tagBytes = 16;

function keyBytes(option: string, key: unknown): Buffer {
  let bytes: Buffer | undefined;
  if (key instanceof Uint8Array) bytes = Buffer.from(key);
  else if (typeof key === 'string' && /^[0-9a-fA-F]{64}$/.test(key)) bytes = Buffer.from(key, 'hex');
  else if (typeof key === 'string' && /^[A-Za-z0-9+/_-]{43}=?$/.test(key)) bytes = Buffer.from(key, 'base64');
  if (bytes?.length !== 32) {
    throw new InvalidOptionError(
      option,
      'expected 32 bytes: a Buffer, 64 hex characters or base64 of 32 bytes',
    );
  }
  const weakness = weaknessOf(bytes);
  if (weakness)
    throw new InvalidOptionError(
      option,
      `not a random key: ${weakness}; make one with crypto.randomBytes(32)`,
    );
  return bytes;
}

/** Distinct values among `count` values taken from `at(i)`. */
function distinct(count: number, at: (i: number) => number): number {
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) seen.add(at(i));
  return seen.size;
}

/**
 * Why 32 bytes are not a random key, or `undefined`. Each rule refuses a random key with a
 * probability under 10^-13 (binomial and occupancy counts for 32 uniform bytes), and catches what
 * people pass instead of one: repeated bytes (`Buffer.alloc(32)`, 43 × `'a'` as base64, 64 zeros as
 * hex), a counter or a short pattern repeated, and text (a passphrase as bytes).
 */
function weaknessOf(key: Buffer): string | undefined {
  const minDistinct = 16; // a random key has about 30 distinct bytes; 15 or fewer: p < 3e-15
  if (distinct(key.length, (i) => key[i] ?? 0) < minDistinct) return 'too few distinct bytes';
  // the steps between bytes of a random key are random too; a counter or a repeated pattern has few
  if (distinct(key.length - 1, (i) => ((key[i + 1] ?? 0) - (key[i] ?? 0)) & 0xff) < minDistinct)
    return 'its bytes follow a pattern';
  // every byte printable ASCII: p = (95/256)^32 < 2e-14
  if (key.every((b) => b >= 0x20 && b <= 0x7e)) return 'its bytes are text';
  return undefined;
}

/** The AES-256-GCM keys: the first seals, all open. Keys are private fields, so logging the options shows none. @internal */
export class KeyRing {
  /** Key ids, the sealing one first. */
  readonly ids: string[];
  readonly #keys = new Map<string, Buffer>();
  /** The HMAC keys of user ids, one per key, the sealing key's first. */
  readonly #userIdKeys: Buffer[] = [];

  constructor(value: EncryptionKey | readonly EncryptionKey[]) {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0) throw new InvalidOptionError('encryption', 'expected at least one key');
    list.forEach((entry: EncryptionKey, i) => {
      const option = Array.isArray(value) ? `encryption[${i}]` : 'encryption';
      if (typeof entry !== 'object' || entry === null)
        throw new InvalidOptionError(option, 'expected { key, keyId? }');
      const key = keyBytes(`${option}.key`, entry.key);
      // the default id is stable across restarts and reveals nothing usable about the key
      const id =
        entry.keyId ??
        createHash('sha256').update('dynamodb-sessions key id').update(key).digest('base64url').slice(0, 8);
      const idLength = typeof id === 'string' ? Buffer.byteLength(id) : 0;
      if (idLength < 1 || idLength > 255)
        throw new InvalidOptionError(`${option}.keyId`, 'expected a string of 1-255 bytes');
      if (this.#keys.has(id)) throw new InvalidOptionError(`${option}.keyId`, `key id "${id}" is used twice`);
      this.#keys.set(id, key);
      // a key of its own for user ids: never the AES key itself
      this.#userIdKeys.push(Buffer.from(hkdfSync('sha256', key, '', 'dynamodb-sessions user id', 32)));
    });
    this.ids = [...this.#keys.keys()];
  }

  /**
   * What the per-user index holds for a user id: its HMAC-SHA256 under a key derived from the
   * sealing key, base64url. The same user id always gives the same value, and nothing in the table
   * gives the user id back without the key.
   */
  userIdHash(userId: string): string {
    return this.#userIdHashWith(this.#userIdKeys[0] as Buffer, userId);
  }

  /** The user id's hash under every configured key, the sealing key's first: items written before a rotation hold an older one. */
  userIdHashes(userId: string): string[] {
    return [...new Set(this.#userIdKeys.map((k) => this.#userIdHashWith(k, userId)))];
  }

  #userIdHashWith(key: Buffer, userId: string): string {
    return createHmac('sha256', key).update(userId).digest('base64url');
  }

  /** Seals `body` with the first key, after `header`, bound to `boundTo`. */
  seal(header: Buffer, body: Buffer, boundTo: string): Buffer {
    const id = this.ids[0] as string;
    const idBytes = Buffer.from(id);
    const head = Buffer.concat([header, Buffer.from([idBytes.length]), idBytes]);
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(id) as Buffer, iv);
    cipher.setAAD(Buffer.concat([head, Buffer.from(boundTo)]));
    return Buffer.concat([head, iv, cipher.update(body), cipher.final(), cipher.getAuthTag()]);
  }

  /** Opens a blob sealed after a header of `headerBytes`, bound to `boundTo`. @throws SessionIntegrityError */
  open(blob: Buffer, headerBytes: number, boundTo: string): Buffer {
    const start = headerBytes + 1 + (blob[headerBytes] ?? 0);
    if (blob.length < start + ivBytes + tagBytes)
      throw new SessionIntegrityError('the sealed data is truncated');
    const id = blob.toString('utf8', headerBytes + 1, start);
    const key = this.#keys.get(id);
    if (!key) throw new SessionIntegrityError(`sealed with key id "${id}", which is not configured`);
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(start, start + ivBytes));
    decipher.setAAD(Buffer.concat([blob.subarray(0, start), Buffer.from(boundTo)]));
    decipher.setAuthTag(blob.subarray(blob.length - tagBytes));
    try {
      return Buffer.concat([
        decipher.update(blob.subarray(start + ivBytes, blob.length - tagBytes)),
        decipher.final(),
      ]);
    } catch {
      throw new SessionIntegrityError(
        'authentication failed: the item was altered or belongs to another session',
      );
    }
  }
}
