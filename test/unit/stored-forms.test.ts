import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DataCodec } from '../../src/format/envelope.ts';
import { ItemFormat, prepareData } from '../../src/format/item.ts';
import { KeyRing } from '../../src/format/keyring.ts';
import { itemKeyOf, keyTag, tombstoneItem } from '../../src/format/keys.ts';
import { decodeData, marshalMap, sizeOf, unmarshalMap } from '../../src/format/marshal.ts';
import { type Plain, samePlain, toPlain } from '../../src/format/plain.ts';
import {
  MalformedItemError,
  SessionDataError,
  SessionIntegrityError,
  SessionTooLargeError,
} from '../../src/index.ts';
import { resolveOptions } from '../../src/options.ts';

const now = 1_800_000_000;
/** What a sealed blob is bound to: the table, the item's key and its version. */
const at = (itemKey: string, version = 1, table = 'sessions') => ({ table, itemKey, version });

describe('plain data and its JSON text', () => {
  test('key order does not change the JSON text', () => {
    const a = prepareData({ b: 1, a: { d: [1, 2], c: 'x' } });
    const b = prepareData({ a: { c: 'x', d: [1, 2] }, b: 1 });
    assert.equal(a.json, '{"a":{"c":"x","d":[1,2]},"b":1}');
    assert.equal(a.json, b.json);
  });

  test('any change of a value, at any depth, changes the JSON text', () => {
    const base = prepareData({ user: { roles: ['a', 'b'] }, n: 1 }).json;
    assert.notEqual(prepareData({ user: { roles: ['a', 'c'] }, n: 1 }).json, base);
    assert.notEqual(prepareData({ user: { roles: ['a', 'b'] }, n: 2 }).json, base);
    assert.notEqual(prepareData({ user: { roles: ['a', 'b'] } }).json, base);
  });

  test('samePlain says "same" only when the plain form is that data, and for any plain data compared with itself', () => {
    // a seeded generator of session-like values, with what JSON treats specially mixed in
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const pick = <V>(list: V[]): V => list[Math.floor(rnd() * list.length)] as V;
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const leaf = (): unknown =>
      pick<() => unknown>([
        () => pick(['a', 'b', '', 'é']),
        () => pick([0, -0, 1, 1.5, -2, Number.NaN, Number.POSITIVE_INFINITY]),
        () => pick([true, false, null, undefined]),
        () => new Date(Math.floor(rnd() * 4) * 1000),
        () => ({ toJSON: () => pick(['t', 1]) }),
        () => new Point(1, pick([1, 2])),
        () => new Map([[1, 2]]),
      ])();
    const value = (depth: number): unknown => {
      if (depth > 3 || rnd() < 0.35) return leaf();
      if (rnd() < 0.4) return Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth + 1));
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 4); i > 0; i--)
        // an own key, as JSON.parse makes it (an assignment of __proto__ would set the prototype)
        Object.defineProperty(out, pick(['a', 'b', 'c', '__proto__']), {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return out;
    };
    let same = 0;
    for (let i = 0; i < 3000; i++) {
      const v = { k: value(0) };
      const other = toPlain({ k: rnd() < 0.5 ? value(0) : v.k }) as Plain;
      for (const p of [toPlain(v) as Plain, other]) {
        if (samePlain(v, p)) {
          same++;
          assert.equal(
            JSON.stringify(toPlain(v)),
            JSON.stringify(p),
            `samePlain said same: ${JSON.stringify(p)}`,
          );
        }
      }
      // plain data (what a session loaded from the table is) is always recognised
      const plain = toPlain(v) as Plain;
      assert.ok(samePlain(JSON.parse(JSON.stringify(plain)), plain));
    }
    assert.ok(same > 1000, `${same} values were recognised as the same`);
  });

  test('values are stored as JSON would store them', () => {
    const date = new Date('2026-01-02T03:04:05.000Z');
    assert.deepEqual(
      toPlain({ d: date, u: undefined, n: Number.NaN, l: [undefined, 1], m: new Map([[1, 2]]) }),
      {
        d: '2026-01-02T03:04:05.000Z',
        l: [null, 1],
        m: {},
        n: null,
      },
    );
  });

  test('values that cannot be stored name their path', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const cases: [unknown, string][] = [
      [{ a: { b: 1n } }, 'session.a.b'],
      [{ f: () => 1 }, 'session.f'],
      [{ s: Symbol('x') }, 'session.s'],
      [{ big: 1e200 }, 'session.big'],
      [cycle, 'session.self'],
      [{ '': 1 }, 'session[""]'],
      [
        {
          t: {
            toJSON() {
              throw new Error('nope');
            },
          },
        },
        'session.t',
      ],
    ];
    for (const [data, path] of cases) {
      assert.throws(
        () => prepareData(data).plain,
        (e: unknown) => e instanceof SessionDataError && e.path === path,
      );
    }
    assert.throws(() => prepareData([1]).json, SessionDataError);
    assert.throws(() => prepareData('text').plain, SessionDataError);
  });

  test('a "__proto__" key stays data and never becomes a prototype', () => {
    const data = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const plain = toPlain(data) as Record<string, Plain>;
    assert.equal(Object.getPrototypeOf(plain), Object.prototype);
    assert.deepEqual(Object.keys(plain), ['__proto__', 'a']);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  });
});

describe('marshalling', () => {
  test('a map round-trips with sorted keys, and connect-dynamodb JSON strings are read', () => {
    const plain = toPlain({ z: [1, 'a', true, null, { y: 2 }], a: { b: 'c' } }) as { [k: string]: Plain };
    const map = marshalMap(plain);
    assert.deepEqual(map.z, {
      L: [{ N: '1' }, { S: 'a' }, { BOOL: true }, { NULL: true }, { M: { y: { N: '2' } } }],
    });
    assert.deepEqual(unmarshalMap(map, 'sess'), plain);
    assert.deepEqual(decodeData({ S: '{"b":1,"a":2}' }, 'sess'), { a: 2, b: 1 });
    assert.deepEqual(Object.keys(decodeData({ S: '{"b":1,"a":2}' }, 'sess')), ['a', 'b']);
  });

  test('data of the wrong shape is a malformed item naming the attribute', () => {
    const bad: (AttributeValue | undefined)[] = [undefined, { S: 'not json' }, { S: '[1]' }, { N: '1' }];
    for (const av of bad) {
      assert.throws(
        () => decodeData(av, 'sess'),
        (e: unknown) => e instanceof MalformedItemError && e.attribute === 'sess',
      );
    }
  });

  test('sizeOf follows DynamoDB item-size rules', () => {
    assert.equal(sizeOf('abc'), 3);
    assert.equal(sizeOf('é'), 2);
    assert.equal(sizeOf(true), 1);
    assert.equal(sizeOf(null), 1);
    assert.equal(sizeOf([]), 3);
    assert.equal(sizeOf({ ab: 'cd' }), 3 + 1 + 2 + 2);
    assert.ok(sizeOf(123456) >= 4);
  });
});

describe('the envelope: compression, serializer, encryption', () => {
  const data = { user: 'ada', text: 'lorem ipsum '.repeat(200) };
  const { plain, json } = prepareData(data);
  const ring = new KeyRing({ key: randomBytes(32), keyId: 'k1' });

  test('small data stays a readable map; large data is compressed to binary and read back', () => {
    const small = new DataCodec({ threshold: 1_000_000, algorithm: 'brotli' }, undefined, undefined);
    assert.ok(small.encode(plain, json, data, at('k')).M);
    for (const algorithm of ['brotli', 'gzip'] as const) {
      const codec = new DataCodec({ threshold: 100, algorithm }, undefined, undefined);
      const av = codec.encode(plain, json, data, at('k'));
      assert.ok(av.B && av.B.byteLength < json.length / 4, `${algorithm} shrinks repeated text`);
      assert.deepEqual(codec.decode(av, 'sess', at('k')), plain);
      // every form is read whatever the options: compression switched off still reads it
      assert.deepEqual(new DataCodec(undefined, undefined, undefined).decode(av, 'sess', at('k')), plain);
    }
  });

  test('a serializer stores its string, and reads back what its parse returns', () => {
    const serializer = {
      stringify: (d: unknown) => `x${JSON.stringify(d)}`,
      parse: (t: string) => JSON.parse(t.slice(1)),
    };
    const codec = new DataCodec(undefined, serializer, undefined);
    const av = codec.encode(plain, json, data, at('k'));
    assert.equal(av.S?.[0], 'x');
    assert.deepEqual(codec.decode(av, 'sess', at('k')), plain);
  });

  test('a sealed blob holds no plaintext, opens for its key only, and refuses any changed byte', () => {
    const codec = new DataCodec(undefined, undefined, ring);
    const av = codec.encode(plain, json, data, at('session#a'));
    const blob = Buffer.from(av.B as Uint8Array);
    assert.ok(!blob.toString('latin1').includes('ada'));
    assert.deepEqual(codec.decode(av, 'sess', at('session#a')), plain);
    assert.throws(() => codec.decode(av, 'sess', at('session#b')), SessionIntegrityError);
    for (const offset of [1, 3, blob.length - 1]) {
      const altered = Buffer.from(blob);
      altered[offset] = (altered[offset] as number) ^ 1;
      assert.throws(
        () => codec.decode({ B: altered }, 'sess', at('session#a')),
        (e: unknown) => e instanceof SessionIntegrityError || e instanceof MalformedItemError,
      );
    }
  });

  test('a serializer that cannot parse the stored text: a malformed item whose message quotes none of it', () => {
    const serializer = {
      stringify: (d: unknown) => JSON.stringify(d),
      parse: (t: string) => {
        throw new SyntaxError(`Unexpected token in "${t}"`);
      },
    };
    const codec = new DataCodec(undefined, serializer, undefined);
    assert.throws(
      () => codec.decode({ S: 'secret-token-123' }, 'sess', at('k')),
      (e: unknown) =>
        e instanceof MalformedItemError &&
        !e.message.includes('secret-token-123') &&
        /SyntaxError/.test(e.message),
    );
  });

  test('a sealed blob is bound to its table and version: moved to another table, or read as another version, it is refused', () => {
    const codec = new DataCodec(undefined, undefined, ring);
    const av = codec.encode(plain, json, data, at('session#a', 4, 'sessions'));
    assert.deepEqual(codec.decode(av, 'sess', at('session#a', 4, 'sessions')), plain);
    assert.throws(() => codec.decode(av, 'sess', at('session#a', 4, 'other-table')), SessionIntegrityError);
    assert.throws(() => codec.decode(av, 'sess', at('session#a', 5, 'sessions')), SessionIntegrityError);
    assert.throws(() => codec.decode(av, 'sess', at('session#a', 0, 'sessions')), SessionIntegrityError);
  });

  test('a blob sealed by an earlier version (to its key alone) opens only in an item without a version', () => {
    const codec = new DataCodec(undefined, undefined, ring);
    // the earlier layout: header without the bound flag, the key alone as authenticated data
    const old = ring.seal(Buffer.from([0xdb, 4]), Buffer.from(json), 'session#a');
    assert.deepEqual(codec.decode({ B: old }, 'sess', at('session#a', 0)), plain);
    assert.throws(
      () => codec.decode({ B: old }, 'sess', at('session#a', 3)),
      (e: unknown) => {
        return e instanceof SessionIntegrityError && /without its version/.test(e.message);
      },
    );
  });

  test('with encryption on, data that is not sealed reads as no session', () => {
    const codec = new DataCodec(undefined, undefined, ring);
    assert.equal(codec.decode({ M: marshalMap(plain) }, 'sess', at('k')), null);
  });

  test('binary data this store did not write is a malformed item', () => {
    const codec = new DataCodec(undefined, undefined, undefined);
    assert.throws(() => codec.decode({ B: Buffer.from([1, 2, 3]) }, 'sess', at('k')), MalformedItemError);
    assert.throws(
      () => codec.decode({ B: Buffer.from([0xdb, 1, 9, 9, 9]) }, 'sess', at('k')),
      MalformedItemError,
    );
  });
});

describe('items', () => {
  const options = resolveOptions<Record<string, unknown>>({ userId: (s) => s.user as string | undefined });
  const format = new ItemFormat(options);

  test('an item holds the key, the data map, the expiry in epoch seconds and the owner', () => {
    const data = { user: 'ada', n: 1 };
    const item = format.toItem('session#a', data, prepareData(data), now + 60, 3);
    assert.deepEqual(item, {
      id: { S: 'session#a' },
      sess: { M: { n: { N: '1' }, user: { S: 'ada' } } },
      expires: { N: String(now + 60) },
      ver: { N: '3' },
      uid: { S: 'ada' },
    });
  });

  test('an item reads back as its record; expired items and tombstones read as no session', () => {
    const data = { a: 1 };
    const item = format.toItem('session#a', data, prepareData(data), now + 60, 3);
    const record = format.fromItem(item, now);
    assert.deepEqual(record, { data, expiresAtSec: now + 60, version: 3, json: prepareData(data).json });
    assert.equal(format.fromItem(item, now + 60), null, 'at its expiry second it is gone');
    assert.equal(format.fromItem(tombstoneItem(options, 'session#a', now), now), null);
  });

  test('an item without a numeric expiry is malformed, naming the attribute', () => {
    const cases = [
      { id: { S: 'k' }, sess: { M: {} } },
      { id: { S: 'k' }, expires: { S: 'soon' } },
      { id: { S: 'k' }, expires: { N: 'x' } },
    ];
    for (const item of cases) {
      assert.throws(
        () => format.fromItem(item, now),
        (e: unknown) => e instanceof MalformedItemError && e.attribute === 'expires',
      );
    }
  });

  test('an item over 400 KB is refused before anything is sent', () => {
    const big = { blob: 'x'.repeat(410 * 1024) };
    assert.throws(() => format.toItem('session#a', big, prepareData(big), now, 1), SessionTooLargeError);
  });

  test('a tombstone is small: key, the destroy time and its own expiry', () => {
    assert.deepEqual(tombstoneItem(options, 'session#a', now), {
      id: { S: 'session#a' },
      destroyed: { N: String(now) },
      expires: { N: String(now + 3600) },
    });
  });

  test('keys: the prefix and the id, within 2048 bytes; debug names a fingerprint, not the key', () => {
    assert.equal(itemKeyOf('session#', 'abc'), 'session#abc');
    assert.equal(itemKeyOf('session#', ''), null);
    assert.equal(itemKeyOf('p', 'x'.repeat(2047)), `p${'x'.repeat(2047)}`);
    assert.equal(itemKeyOf('p', 'x'.repeat(2048)), null);
    assert.equal(itemKeyOf('p', 'é'.repeat(1024)), null, 'counted in UTF-8 bytes');
    assert.equal(keyTag('session#abc').length, 12);
    assert.ok(!keyTag('session#abc').includes('abc'));
  });
});
