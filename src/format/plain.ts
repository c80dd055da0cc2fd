/**
 * Session data as stored: plain, JSON-compatible data with sorted keys. Data is stored as JSON would
 * store it (Dates become ISO strings, class instances their own enumerable data, `undefined` is
 * dropped), and keys come out sorted at every level, so that the same data always gives the same
 * JSON text: equal texts recognise an unchanged session.
 */
import { SessionDataError } from '../errors.js';

/** JSON-compatible data, as stored. @public */
export type Plain = string | number | boolean | null | Plain[] | { [key: string]: Plain };

// DynamoDB numbers: 38 significant digits, magnitude 1E-130 to 9.9E+125
const maxNumber = 9.9e125;
const minNumber = 1e-130;
const maxDepth = 31; // DynamoDB nests 32 levels deep, the item itself being the first

/** Sets an own property; a plain assignment of `__proto__` would replace the prototype instead. @internal */
export function put<V>(target: { [key: string]: V }, key: string, value: V): void {
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
export function toPlain(value: unknown, path = 'session'): Plain | undefined {
  return new PlainWalk(path).of(value, false);
}

/**
 * One walk of `toPlain`. The path of a value is kept as a list of keys and built into text only for
 * an error: a walk over a session builds no string per value.
 */
class PlainWalk {
  readonly #keys: (string | number)[] = [];
  readonly #ancestors: unknown[] = [];

  constructor(private readonly root: string) {}

  #path(): string {
    let path = this.root;
    for (const k of this.#keys) path += typeof k === 'number' ? `[${k}]` : `.${k}`;
    return path;
  }

  #fail(why: string): never {
    throw new SessionDataError(this.#path(), why);
  }

  of(value: unknown, fromToJSON: boolean): Plain | undefined {
    if (value === null) return null;
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (!Number.isFinite(value)) return null; // as JSON does
        if (value !== 0 && (Math.abs(value) > maxNumber || Math.abs(value) < minNumber))
          this.#fail('number is outside the range DynamoDB can store');
        return value;
      case 'undefined':
        return undefined;
      case 'object':
        break;
      default:
        this.#fail(describe(value));
    }
    const obj = value as { toJSON?: unknown };
    // as JSON.stringify: toJSON is called once, and what it returns is not asked for its own toJSON
    if (typeof obj.toJSON === 'function' && !fromToJSON) {
      let json: unknown;
      try {
        json = (obj.toJSON as (key: string) => unknown)('');
      } catch (err) {
        this.#fail(`toJSON() threw: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (json === value) this.#fail('toJSON() returns the value itself');
      return this.of(json, true);
    }
    const ancestors = this.#ancestors;
    if (ancestors.includes(value)) this.#fail('circular reference');
    if (ancestors.length >= maxDepth) this.#fail(`nested deeper than ${maxDepth} levels`);
    ancestors.push(value);
    const keys = this.#keys;
    let out: Plain;
    if (Array.isArray(value)) {
      const list: Plain[] = new Array(value.length);
      for (let i = 0; i < value.length; i++) {
        keys.push(i);
        list[i] = this.of(value[i], false) ?? null;
        keys.pop();
      }
      out = list;
    } else {
      const map: { [key: string]: Plain } = {};
      const source = value as Record<string, unknown>;
      for (const key of Object.keys(source).sort()) {
        keys.push(key);
        const v = this.of(source[key], false);
        keys.pop();
        if (v === undefined) continue;
        if (key === '')
          throw new SessionDataError(`${this.#path()}[""]`, 'DynamoDB cannot store an empty key');
        put(map, key, v);
      }
      out = map;
    }
    ancestors.pop();
    return out;
  }
}

/**
 * Whether `toPlain(value)` is `plain`, found by walking both instead of converting: `true` only when
 * it is, `false` when it is not or may not be (a `toJSON`, an `undefined` in a list, a number JSON
 * has no form for: the caller then converts and compares). Stops at the first difference, and ends
 * on cyclic data, since it follows `plain`, which is a tree.
 * @internal
 */
export function samePlain(value: unknown, plain: Plain): boolean {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return false;
    return value === plain && value !== undefined;
  }
  if (plain === null || typeof plain !== 'object') return false;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  if (Array.isArray(value)) {
    if (!Array.isArray(plain) || value.length !== plain.length) return false;
    for (let i = 0; i < value.length; i++) if (!samePlain(value[i], plain[i] as Plain)) return false;
    return true;
  }
  if (Array.isArray(plain)) return false;
  const source = value as Record<string, unknown>;
  let count = 0;
  for (const key in source) {
    if (!Object.hasOwn(source, key)) continue;
    const v = source[key];
    if (v === undefined) continue; // dropped, as toPlain drops it
    if (!Object.hasOwn(plain, key) || !samePlain(v, plain[key] as Plain)) return false;
    count++;
  }
  return count === Object.keys(plain).length;
}

/**
 * A deep copy of session data as read or given: arrays, plain objects, Dates, Maps, Sets and binary
 * data are copied at every level; other class instances (a serializer may revive them) are shared.
 * @internal
 */
export function copyData<V>(value: V): V {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const list: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) list[i] = copyData(value[i]);
    return list as V;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const map: Record<string, unknown> = proto === null ? Object.create(null) : {};
    const source = value as Record<string, unknown>;
    for (const key of Object.keys(source)) put(map, key, copyData(source[key]));
    return map as V;
  }
  if (value instanceof Date) return new Date(value.getTime()) as V;
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, copyData(v)])) as V;
  if (value instanceof Set) return new Set([...value].map(copyData)) as V;
  if (Buffer.isBuffer(value)) return Buffer.from(value) as V;
  // a typed array's slice is a copy (a Buffer's is a view, hence the line above)
  if (ArrayBuffer.isView(value) && !(value instanceof DataView))
    return (value as unknown as Uint8Array).slice() as V;
  return value;
}

/** Sorts keys at every level of already-plain data (e.g. parsed from a JSON string). @internal */
export function sortKeys(value: Plain): Plain {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(sortKeys);
  const out: { [key: string]: Plain } = {};
  for (const key of Object.keys(value).sort()) put(out, key, sortKeys(value[key] as Plain));
  return out;
}
