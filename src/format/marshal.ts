/**
 * Plain data <-> DynamoDB attribute values: a readable map, and the reader of the JSON strings that
 * connect-dynamodb writes, so that its table can be read after a migration.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { MalformedItemError } from '../errors.js';
import { type Plain, put, sortKeys } from './plain.js';

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
