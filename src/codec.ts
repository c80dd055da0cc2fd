/**
 * Session data <-> DynamoDB attribute values. Data is stored as JSON would store it (Dates become
 * ISO strings, class instances their own enumerable data, `undefined` is dropped), but as a
 * readable DynamoDB map. Keys come out sorted at every level, so that the same data always gives
 * the same JSON text: that text is the digest used to detect unchanged sessions.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MalformedItemError, SessionDataError } from './errors.js';

/** JSON-compatible data, as stored. @public */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

// DynamoDB numbers: 38 significant digits, magnitude 1E-130 to 9.9E+125
const maxNumber = 9.9e125;
const minNumber = 1e-130;
const maxDepth = 31; // DynamoDB nests 32 levels deep, the item itself being the first

/** Sets an own property; a plain assignment of `__proto__` would replace the prototype instead. */
function put<V>(target: { [key: string]: V }, key: string, value: V): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function describe(value: unknown): string {
  if (typeof value === 'bigint') return 'a BigInt has no JSON form';
  if (typeof value === 'function') return 'a function cannot be stored';
  if (typeof value === 'symbol') return 'a symbol cannot be stored';
  return `a ${typeof value} cannot be stored`;
}

/**
 * Turns data into plain, JSON-compatible data with sorted keys, or throws `SessionDataError`
 * naming the path of the first value that cannot be stored.
 * @internal
 */
export function toPlain(value: unknown, path = 'session', ancestors: unknown[] = []): Plain | undefined {
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) return null; // as JSON does
      if (value !== 0 && (Math.abs(value) > maxNumber || Math.abs(value) < minNumber)) {
        throw new SessionDataError(path, 'number is outside the range DynamoDB can store');
      }
      return value;
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      throw new SessionDataError(path, describe(value));
  }
  const obj = value as { toJSON?: unknown };
  if (typeof obj.toJSON === 'function') {
    return toPlain((obj.toJSON as (key: string) => unknown)(''), path, ancestors);
  }
  if (ancestors.includes(value)) throw new SessionDataError(path, 'circular reference');
  if (ancestors.length >= maxDepth) throw new SessionDataError(path, `nested deeper than ${maxDepth} levels`);
  ancestors.push(value);
  let out: Plain;
  if (Array.isArray(value)) {
    const list: Plain[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) list[i] = toPlain(value[i], `${path}[${i}]`, ancestors) ?? null;
    out = list;
  } else {
    const map: { [key: string]: Plain } = {};
    const source = value as Record<string, unknown>;
    for (const key of Object.keys(source).sort()) {
      const v = toPlain(source[key], `${path}.${key}`, ancestors);
      if (v === undefined) continue;
      if (key === '') throw new SessionDataError(`${path}[""]`, 'DynamoDB cannot store an empty key');
      put(map, key, v);
    }
    out = map;
  }
  ancestors.pop();
  return out;
}

/** Plain data to a DynamoDB attribute value. @internal */
export function marshal(value: Plain): AttributeValue {
  if (value === null) return { NULL: true };
  switch (typeof value) {
    case 'string':
      return { S: value };
    case 'number':
      return { N: String(value) };
    case 'boolean':
      return { BOOL: value };
  }
  if (Array.isArray(value)) return { L: value.map(marshal) };
  return { M: marshalMap(value) };
}

/** Plain object to a DynamoDB map. @internal */
export function marshalMap(value: { [key: string]: Plain }): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const key of Object.keys(value)) put(out, key, marshal(value[key] as Plain));
  return out;
}

/** A DynamoDB attribute value to plain data, map keys sorted. Throws `MalformedItemError` on binary. @internal */
export function unmarshal(av: AttributeValue, attribute: string): Plain {
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.NULL !== undefined) return null;
  if (av.M !== undefined) return unmarshalMap(av.M, attribute);
  if (av.L !== undefined) return av.L.map((v) => unmarshal(v, attribute));
  if (av.SS !== undefined) return [...av.SS];
  if (av.NS !== undefined) return av.NS.map(Number);
  throw new MalformedItemError(attribute, 'holds a binary value inside the session map');
}

/** A DynamoDB map to a plain object with sorted keys. @internal */
export function unmarshalMap(
  map: Record<string, AttributeValue>,
  attribute: string,
): { [key: string]: Plain } {
  const out: { [key: string]: Plain } = {};
  for (const key of Object.keys(map).sort()) put(out, key, unmarshal(map[key] as AttributeValue, attribute));
  return out;
}

/** Sorts keys at every level of already-plain data (e.g. parsed from a JSON string). @internal */
export function sortKeys(value: Plain): Plain {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const out: { [key: string]: Plain } = {};
  for (const key of Object.keys(value).sort()) put(out, key, sortKeys(value[key] as Plain));
  return out;
}

/** DynamoDB's size of an attribute value in bytes (its documented item-size rules). @internal */
export function sizeOf(value: Plain): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  // digits are stored in pairs aligned on the decimal point: up to one pair more than half the digits
  if (typeof value === 'number') return 2 + Math.ceil(String(value).replace(/[-.]|e.*$/g, '').length / 2);
  let size = 3;
  if (Array.isArray(value)) {
    for (const v of value) size += 1 + sizeOf(v);
  } else {
    for (const key of Object.keys(value)) size += 1 + Buffer.byteLength(key) + sizeOf(value[key] as Plain);
  }
  return size;
}

/**
 * Reads the stored form of session data: a map (what this store writes) or a JSON string (what
 * connect-dynamodb writes, so that its table can be read after a migration).
 * @internal
 */
export function decodeData(av: AttributeValue | undefined, attribute: string): { [key: string]: Plain } {
  if (av === undefined) throw new MalformedItemError(attribute, 'is missing');
  if (av.M !== undefined) return unmarshalMap(av.M, attribute);
  if (av.S !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(av.S);
    } catch {
      throw new MalformedItemError(attribute, 'is a string that is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new MalformedItemError(attribute, 'is a JSON string that does not hold an object');
    }
    return sortKeys(parsed as Plain) as { [key: string]: Plain };
  }
  throw new MalformedItemError(
    attribute,
    `has type ${Object.keys(av)[0] ?? 'unknown'}, expected a map (M) or a JSON string (S)`,
  );
}
