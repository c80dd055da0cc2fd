/**
 * The stored forms of session data. Small sessions stay a readable DynamoDB map (or the serializer's
 * string); large ones may be compressed, and all may be sealed with AES-256-GCM. Compressed and
 * sealed data is binary (B) and starts with a header that says how it was written, so every form is
 * read whatever the current options: compression can be switched on or off for a live table.
 *
 * Binary layout: `0xDB`, a format byte, then for sealed data the key id (1 length byte + UTF-8), a
 * 12-byte IV, the ciphertext and the 16-byte tag. The authenticated data is the header and what the
 * blob is bound to: the table, the item's key and its version. A sealed blob moved to another
 * session or another table, written back over a later version or over a tombstone, or with an
 * edited header, is refused.
 */
import { debuglog } from 'node:util';
import { brotliCompressSync, brotliDecompressSync, constants, gunzipSync, gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  InvalidOptionError,
  MalformedItemError,
  SessionDataError,
  SessionIntegrityError,
} from '../errors.js';
import type { KeyRing } from './keyring.js';
import { keyTag } from './keys.js';
import { decodeData, marshalMap } from './marshal.js';
import { type Plain, sortKeys } from './plain.js';

const debug = debuglog('dynamodb-sessions');

/** Compression algorithm of large sessions. @public */
export type CompressionAlgorithm = 'gzip' | 'brotli';

/** How large sessions are compressed. @public */
export interface CompressionOptions {
  /** Bytes: sessions whose serialized text is longer are compressed. @defaultValue `1024` */
  threshold?: number;
  /** `'brotli'` (quality 5) or `'gzip'` (level 6). @defaultValue `'brotli'`: a little smaller, a little more CPU */
  algorithm?: CompressionAlgorithm;
}

/** Turns session data into a string and back, e.g. to keep Dates as Dates. @public */
export interface Serializer {
  /** Receives the session as given to `set` (Dates and class instances intact). Must be synchronous. */
  stringify(data: unknown): string;
  /** Returns the session (an object). Must be synchronous. */
  parse(text: string): unknown;
}

/** Resolved compression settings. @internal */
export interface ResolvedCompression {
  threshold: number;
  algorithm: CompressionAlgorithm;
}

const magic = 0xdb;
const gzipFlag = 1;
const brotliFlag = 2;
const compressionBits = 3;
const sealedFlag = 4;
const serializedFlag = 8; // the text is the serializer's, not JSON
const boundFlag = 16; // sealed to the table, key and version (earlier blobs: to the key alone)
const knownFlags = 31;

/** What a sealed blob is bound to: its table, its item's key and the version it was written as. @internal */
export interface Binding {
  table: string;
  itemKey: string;
  version: number;
}

const boundTo = (b: Binding) => `${b.table}\n${b.itemKey}\n${b.version}`;
const maxInflatedBytes = 64 * 1024 * 1024; // a stored item is at most 400 KB: refuse "zip bombs"
// chosen by measurement (docs/cost-features.md): brotli 5 is 2-12% smaller than gzip 6 for tens of µs
// more CPU, and DynamoDB bills each started KB of a write
const gzipLevel = 6;
const brotliQuality = 5;

function exceeds(text: string, bytes: number): boolean {
  if (text.length > bytes) return true;
  return text.length * 3 > bytes && Buffer.byteLength(text) > bytes; // UTF-8: 1-3 bytes per UTF-16 unit
}

/** Sorts the keys of plain objects (the JSON text of unchanged data needs it), leaving Dates and class instances as they are. */
function sortDeep(value: unknown, attribute: string, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > 32) throw new MalformedItemError(attribute, 'holds data nested deeper than 32 levels');
  if (Array.isArray(value)) return value.map((v) => sortDeep(v, attribute, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source).sort()) {
    // an own "__proto__" key (JSON.parse makes one) must stay data, not become the prototype
    Object.defineProperty(out, key, {
      value: sortDeep(source[key], attribute, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Writes and reads the stored forms of session data; made once per engine. @internal */
export class DataCodec {
  constructor(
    private readonly compression: ResolvedCompression | undefined,
    private readonly serializer: Serializer | undefined,
    private readonly keys: KeyRing | undefined,
  ) {}

  /**
   * The stored form of a session: `plain` is its sorted plain data, `json` that data's JSON text,
   * `data` the session as given (for the serializer), `binding` what a sealed blob is bound to.
   */
  encode(plain: { [key: string]: Plain }, json: string, data: unknown, binding: Binding): AttributeValue {
    const text = this.serializer ? this.stringify(data) : json;
    let flags = this.serializer ? serializedFlag : 0;
    let body: Buffer | undefined;
    if (this.compression && exceeds(text, this.compression.threshold)) {
      const raw = Buffer.from(text);
      const packed =
        this.compression.algorithm === 'brotli' ? brotli(raw) : gzipSync(raw, { level: gzipLevel });
      // incompressible data is kept as it is: smaller to read back, and no slower
      if (packed.length < raw.length) {
        body = packed;
        flags |= this.compression.algorithm === 'brotli' ? brotliFlag : gzipFlag;
      } else body = raw;
    }
    if (this.keys) {
      const header = Buffer.from([magic, flags | sealedFlag | boundFlag]);
      return { B: this.keys.seal(header, body ?? Buffer.from(text), boundTo(binding)) };
    }
    if (flags & compressionBits) return { B: Buffer.concat([Buffer.from([magic, flags]), body as Buffer]) };
    return this.serializer ? { S: text } : { M: marshalMap(plain) };
  }

  /**
   * Reads any stored form. With encryption configured, data that is not sealed is not trusted and
   * reads as no session (`null`).
   * @throws MalformedItemError, SessionIntegrityError
   */
  decode(
    av: AttributeValue | undefined,
    attribute: string,
    binding: Binding,
  ): Record<string, unknown> | null {
    if (av?.B !== undefined)
      return this.unpack(Buffer.from(av.B.buffer, av.B.byteOffset, av.B.byteLength), attribute, binding);
    if (this.keys && av !== undefined) {
      debug('session %s ignored: it is not sealed and encryption is on', keyTag(binding.itemKey));
      return null;
    }
    if (av?.S !== undefined && this.serializer) return this.parse(av.S, attribute);
    return decodeData(av, attribute);
  }

  private unpack(blob: Buffer, attribute: string, binding: Binding): Record<string, unknown> | null {
    if (blob.length < 2 || blob[0] !== magic)
      throw new MalformedItemError(attribute, 'is binary data this store did not write');
    const flags = blob[1] as number;
    if ((flags & ~knownFlags) !== 0 || (flags & compressionBits) === compressionBits) {
      throw new MalformedItemError(attribute, `has an unknown format (${flags})`);
    }
    let body: Buffer;
    if (flags & sealedFlag) {
      if (!this.keys)
        throw new SessionIntegrityError('the item is sealed and no encryption key is configured');
      if (!(flags & boundFlag) && binding.version !== 0) {
        // sealed by an earlier version of this store to the key alone: only an item from then (one
        // without a version) may hold it, or an old copy could be written back over a newer session
        throw new SessionIntegrityError('a blob sealed without its version is in an item that has one');
      }
      body = this.keys.open(blob, 2, flags & boundFlag ? boundTo(binding) : binding.itemKey);
    } else if (this.keys) {
      debug('session %s ignored: it is not sealed and encryption is on', keyTag(binding.itemKey));
      return null;
    } else body = blob.subarray(2);
    const text = inflate(body, flags & compressionBits, attribute).toString('utf8');
    if (flags & serializedFlag) {
      if (!this.serializer)
        throw new MalformedItemError(attribute, 'was written by a serializer, and none is configured');
      return this.parse(text, attribute);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new MalformedItemError(attribute, 'holds binary data that is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new MalformedItemError(attribute, 'holds JSON that is not an object');
    }
    return sortKeys(parsed as Plain) as Record<string, unknown>;
  }

  private stringify(data: unknown): string {
    let text: unknown;
    try {
      text = this.serializer?.stringify(data);
    } catch (err) {
      throw new SessionDataError(
        'session',
        `serializer.stringify failed: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (typeof text !== 'string')
      throw new InvalidOptionError('serializer', 'stringify must return a string');
    return text;
  }

  private parse(text: string, attribute: string): Record<string, unknown> {
    let parsed: unknown;
    try {
      parsed = this.serializer?.parse(text);
    } catch (err) {
      // the parser's own message may quote the stored text (a session's data): only its name is kept
      const name = err instanceof Error ? err.name : typeof err;
      throw new MalformedItemError(attribute, `cannot be parsed by the serializer (its ${name})`);
    }
    if (typeof (parsed as { then?: unknown } | null)?.then === 'function') {
      throw new InvalidOptionError('serializer', 'parse must return the data, not a Promise');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new MalformedItemError(attribute, 'is not an object once parsed by the serializer');
    }
    return sortDeep(parsed, attribute) as Record<string, unknown>;
  }
}

function brotli(raw: Buffer): Buffer {
  return brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: brotliQuality,
      [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
}

function inflate(body: Buffer, algorithm: number, attribute: string): Buffer {
  if (algorithm === 0) return body;
  try {
    const options = { maxOutputLength: maxInflatedBytes };
    return algorithm === brotliFlag ? brotliDecompressSync(body, options) : gunzipSync(body, options);
  } catch {
    throw new MalformedItemError(attribute, 'holds compressed data that cannot be decompressed');
  }
}
