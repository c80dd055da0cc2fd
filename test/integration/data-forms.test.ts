import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sizeOf } from '../../src/format/marshal.ts';
import { type Plain, toPlain } from '../../src/format/plain.ts';
import {
  type EngineOptions,
  InvalidOptionError,
  MalformedItemError,
  type Serializer,
  SessionEngine,
  SessionTooLargeError,
} from '../../src/index.ts';
import { countCommands, freshTable, keyOf, localClient, unreadable } from './helpers.ts';

const client = await localClient();
const counter = countCommands(client);
let tableName = '';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const key1 = randomBytes(32);
const key2 = randomBytes(32);

before(async () => {
  tableName = await freshTable(client);
});

function engine(options: EngineOptions = {}) {
  return new SessionEngine({ client, tableName, ...options });
}

async function rawItem(id: string): Promise<Record<string, AttributeValue> | undefined> {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: keyOf(id) } }, ConsistentRead: true }),
  );
  return out.Item;
}

async function putRaw(item: Record<string, AttributeValue>): Promise<void> {
  await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
}

function bytesOf(av: AttributeValue | undefined): Buffer {
  assert.ok(av?.B, 'stored as binary');
  return Buffer.from(av.B);
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const words = (
  'the a to of and for with your order delivery shipping address account payment card product item size ' +
  'colour blue black white small medium large price discount code basket checkout review rating great ' +
  'quality fast return refund please note gift wrap message birthday weekend morning store pickup available'
).split(' ');

/** A session like a shop's: nested objects, repeated keys, text, some random ids; about `bytes` of JSON. */
function realisticSession(bytes: number, seed = 7): Record<string, unknown> {
  const rnd = prng(seed);
  const pick = <V>(list: readonly V[]): V => list[Math.floor(rnd() * list.length)] as V;
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const text = (n: number) => Array.from({ length: n }, () => pick(words)).join(' ');
  const at = (i: number) =>
    new Date(Date.UTC(2025, 0, 1) + i * 3_600_000 + Math.floor(rnd() * 3e6)).toISOString();
  const items: unknown[] = [];
  const viewed: unknown[] = [];
  const searches: unknown[] = [];
  const drafts: Record<string, unknown> = {};
  const session: Record<string, unknown> = {
    cookie: { originalMaxAge: 86_400_000, httpOnly: true, path: '/', secure: true, sameSite: 'lax' },
    csrfSecret: hex(32),
    user: {
      id: hex(24),
      email: 'ada.lovelace@example.com',
      name: 'Ada Lovelace',
      roles: ['customer', 'beta'],
      preferences: { theme: 'dark', currency: 'EUR', newsletter: true, timezone: 'Europe/London' },
    },
    flash: [{ type: 'info', message: text(8) }],
    cart: { currency: 'EUR', items, updatedAt: at(0) },
    recentlyViewed: viewed,
    searches,
    drafts,
  };
  let length = JSON.stringify(session).length;
  for (let i = 0; length < bytes && i < 100_000; i++) {
    let added: unknown;
    if (i % 4 === 0) {
      added = {
        sku: `SKU-${1000 + Math.floor(rnd() * 9000)}`,
        name: text(3),
        quantity: 1 + Math.floor(rnd() * 3),
        unitPrice: Math.round(rnd() * 10_000) / 100,
        options: { size: pick(['S', 'M', 'L', 'XL']), colour: pick(['blue', 'black', 'white']) },
        addedAt: at(i),
      };
      items.push(added);
    } else if (i % 4 === 1) {
      added = {
        productId: hex(12),
        title: text(4),
        viewedAt: at(i),
        price: Math.round(rnd() * 10_000) / 100,
      };
      viewed.push(added);
    } else if (i % 4 === 2) {
      added = { query: text(2), filters: { category: pick(['shoes', 'bags']), sort: 'price' }, at: at(i) };
      searches.push(added);
    } else {
      added = { rating: 1 + Math.floor(rnd() * 5), body: text(20 + Math.floor(rnd() * 40)), savedAt: at(i) };
      drafts[`review-${hex(8)}`] = added;
    }
    length += JSON.stringify(added).length + 1;
  }
  return session;
}

/** The session as `get` returns it: JSON's view, keys sorted. */
function asStored(data: unknown): unknown {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sort(o[k])]),
    );
  };
  return sort(JSON.parse(JSON.stringify(data)));
}

/** Keeps Dates as Dates: `{ $date: ms }` in the text. */
const dateSerializer: Serializer = {
  stringify: (data) =>
    JSON.stringify(data, function (this: Record<string, unknown>, k, v: unknown) {
      const raw = this[k];
      return raw instanceof Date ? { $date: raw.getTime() } : v;
    }),
  parse: (text) =>
    JSON.parse(text, (_k, v: unknown) =>
      v !== null && typeof v === 'object' && typeof (v as { $date?: unknown }).$date === 'number'
        ? new Date((v as { $date: number }).$date)
        : v,
    ),
};

describe('options', () => {
  test('a key given as a Buffer, hex, base64 or base64url is the same key; logging the options shows none', async () => {
    await engine({ encryption: { key: key1.toString('hex') } }).set('key-forms', { a: 1 }, inAnHour());
    for (const key of [key1, key1.toString('base64'), key1.toString('base64url')]) {
      assert.deepEqual(await engine({ encryption: { key } }).get('key-forms'), { a: 1 });
    }
  });
});

describe('round trips of every stored form', () => {
  const data = realisticSession(8 * 1024);
  const forms: [string, EngineOptions, (av: AttributeValue | undefined) => void][] = [
    ['map', {}, (av) => assert.ok(av?.M, 'a map')],
    [
      'gzip',
      { compress: { algorithm: 'gzip' } },
      (av) => assert.deepEqual([...bytesOf(av).subarray(0, 2)], [0xdb, 1]),
    ],
    ['brotli', { compress: true }, (av) => assert.deepEqual([...bytesOf(av).subarray(0, 2)], [0xdb, 2])],
    ['serializer', { serializer: JSON }, (av) => assert.equal(typeof av?.S, 'string')],
    [
      'sealed',
      { encryption: { key: key1 } },
      (av) => assert.deepEqual([...bytesOf(av).subarray(0, 2)], [0xdb, 4 | 16]), // sealed, bound to table, key and version
    ],
    [
      'compressed and sealed',
      { compress: true, encryption: { key: key1 } },
      (av) => assert.deepEqual([...bytesOf(av).subarray(0, 2)], [0xdb, 6 | 16]),
    ],
    [
      'serialized, compressed and sealed',
      { serializer: JSON, compress: { algorithm: 'gzip' }, encryption: { key: key1 } },
      (av) => assert.deepEqual([...bytesOf(av).subarray(0, 2)], [0xdb, 13 | 16]),
    ],
  ];
  for (const [name, options, check] of forms) {
    test(`${name}: stored in its form, read back equal, and an unmodified save writes nothing`, async () => {
      const id = `form-${name}`;
      await engine(options).set(id, data, inAnHour());
      check((await rawItem(id))?.sess);
      const reader = engine(options);
      assert.deepEqual(await reader.get(id), asStored(data));
      counter.reset();
      await reader.set(id, structuredClone(data), inAnHour());
      assert.equal(counter.writes(), 0, 'unchanged data is not written again');
      await reader.set(id, { ...data, flash: [] }, inAnHour());
      assert.equal(counter.writes(), 1, 'changed data is written');
    });
  }

  test('a compressed session round-trips through a DynamoDBDocumentClient', async () => {
    const doc = DynamoDBDocumentClient.from(await localClient());
    const e = new SessionEngine({ client: doc, tableName, compress: true, encryption: { key: key1 } });
    await e.set('doc-compressed', data, inAnHour());
    assert.deepEqual(await e.get('doc-compressed'), asStored(data));
  });
});

describe('compression', () => {
  test('a session under the threshold stays a readable map; over it, it is binary and smaller', async () => {
    const e = engine({ compress: { threshold: 4096 } });
    await e.set('small', realisticSession(3000), inAnHour());
    assert.ok((await rawItem('small'))?.sess?.M, 'a small session is a map');
    const big = realisticSession(5000);
    await e.set('over', big, inAnHour());
    assert.ok(
      bytesOf((await rawItem('over'))?.sess).length < JSON.stringify(big).length / 2,
      'less than half',
    );
  });

  test('data that compression would not shrink is stored as it is', async () => {
    await engine({ compress: { threshold: 0 } }).set(
      'random',
      { t: randomBytes(24).toString('base64') },
      inAnHour(),
    );
    assert.ok((await rawItem('random'))?.sess?.M, 'a map');
  });

  test('switching compression on or off on a live table: every engine reads every form', async () => {
    const data = realisticSession(4096);
    const plain = engine();
    const compressed = engine({ compress: true });
    await plain.set('switch-a', data, inAnHour());
    await compressed.set('switch-b', data, inAnHour());
    assert.ok((await rawItem('switch-a'))?.sess?.M, 'a map');
    assert.ok((await rawItem('switch-b'))?.sess?.B, 'binary');
    for (const e of [plain, compressed, engine({ compress: { algorithm: 'gzip' } })]) {
      assert.deepEqual(await e.get('switch-a'), asStored(data));
      assert.deepEqual(await e.get('switch-b'), asStored(data));
    }
    await compressed.set('switch-a', { ...data, step: 2 }, inAnHour());
    assert.ok((await rawItem('switch-a'))?.sess?.B, 'rewritten compressed');
    assert.deepEqual(await plain.get('switch-a'), asStored({ ...data, step: 2 }));
  });

  test('the size limit applies to the compressed size', async () => {
    const big = realisticSession(600 * 1024);
    await engine({ compress: true }).set('600k', big, inAnHour());
    assert.ok(bytesOf((await rawItem('600k'))?.sess).length < 200 * 1024, 'under 200 KB');
    assert.deepEqual(await engine().get('600k'), asStored(big));
    counter.reset();
    const noise = { blob: randomBytes(450 * 1024).toString('base64') }; // 600 KB of JSON
    await assert.rejects(engine({ compress: true }).set('noise', noise, inAnHour()), SessionTooLargeError);
    await assert.rejects(
      engine({ compress: true, encryption: { key: key1 } }).set('noise', noise, inAnHour()),
      SessionTooLargeError,
    );
    assert.equal(counter.writes(), 0, 'nothing was sent');
  });

  test('binary data this store did not write, or cannot decompress, is a malformed item', async () => {
    const expires = { N: String(inAnHour()) };
    const cases: [string, Buffer][] = [
      ['foreign', Buffer.from('hello')],
      ['unknown-format', Buffer.from([0xdb, 0x30, 1, 2])],
      ['broken-gzip', Buffer.from([0xdb, 1, 1, 2, 3])],
      [
        'no-serializer',
        Buffer.concat([Buffer.from([0xdb, 8 | 1]), (await import('node:zlib')).gzipSync('{}')]),
      ],
    ];
    for (const [id, blob] of cases) {
      await putRaw({ id: { S: `session#${id}` }, sess: { B: blob }, expires });
      await assert.rejects(engine().get(id), MalformedItemError, id);
    }
  });
});

describe('serializer', () => {
  test('data is stored as the serializer string (S) and parsed back, Dates kept', async () => {
    const e = engine({ serializer: dateSerializer });
    const data = { user: 'ada', login: new Date(1_700_000_000_000), zeta: 1, alpha: { b: 1, a: 2 } };
    await e.set('ser', data, inAnHour());
    const raw = (await rawItem('ser'))?.sess;
    assert.equal(raw?.S, dateSerializer.stringify(data));
    const back = await engine({ serializer: dateSerializer }).get('ser');
    assert.deepEqual(back, {
      alpha: { a: 2, b: 1 },
      login: new Date(1_700_000_000_000),
      user: 'ada',
      zeta: 1,
    });
    assert.deepEqual(Object.keys(back ?? {}), ['alpha', 'login', 'user', 'zeta'], 'keys sorted');
    counter.reset();
    const reader = engine({ serializer: dateSerializer });
    await reader.get('ser');
    await reader.set('ser', { ...data }, inAnHour());
    assert.equal(counter.writes(), 0, 'unchanged data is not written again');
  });

  test('a "__proto__" key from the serializer stays data, it never becomes the prototype', async () => {
    await putRaw({
      id: { S: 'session#proto' },
      sess: { S: '{"__proto__":{"admin":true},"user":"ada"}' },
      expires: { N: String(inAnHour()) },
    });
    const data = (await engine({ serializer: JSON }).get('proto')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(data), Object.prototype);
    assert.equal(data.admin, undefined);
    assert.deepEqual(Object.keys(data), ['__proto__', 'user']);
  });

  test('a string the serializer cannot parse, or that is not an object, is a malformed item', async () => {
    const expires = { N: String(inAnHour()) };
    await putRaw({ id: { S: 'session#bad-ser' }, sess: { S: '{nope' }, expires });
    await putRaw({ id: { S: 'session#list-ser' }, sess: { S: '[1]' }, expires });
    for (const id of ['bad-ser', 'list-ser']) {
      await assert.rejects(engine({ serializer: JSON }).get(id), MalformedItemError);
    }
  });

  test('a serializer that returns no string, or a Promise, is an option error', async () => {
    const bad = { stringify: () => 42, parse: JSON.parse } as unknown as Serializer;
    await assert.rejects(engine({ serializer: bad }).set('bad', { a: 1 }, inAnHour()), InvalidOptionError);
    await engine({ serializer: JSON }).set('async-ser', { a: 1 }, inAnHour());
    const async = { stringify: JSON.stringify, parse: async (t: string) => JSON.parse(t) } as Serializer;
    await assert.rejects(engine({ serializer: async }).get('async-ser'), InvalidOptionError);
  });
});

describe('encryption', () => {
  const secret = 'card ending 4242, code TOP-SECRET-7731';

  test('the stored item holds no plaintext, only a sealed binary', async () => {
    for (const options of [
      { encryption: { key: key1 } },
      { encryption: { key: key1 }, compress: { threshold: 0 } },
    ]) {
      await engine(options).set('sealed', { note: secret, user: { name: 'ada' } }, inAnHour());
      const item = await rawItem('sealed');
      const blob = bytesOf(item?.sess);
      for (const needle of ['TOP-SECRET', 'note', 'ada']) {
        assert.equal(blob.includes(needle), false, `no "${needle}" in the blob`);
      }
      assert.deepEqual(Object.keys(item ?? {}).sort(), ['expires', 'id', 'sess', 'ver']);
      assert.deepEqual(await engine(options).get('sealed'), { note: secret, user: { name: 'ada' } });
    }
  });

  test('changing any byte after the magic makes the item refused', async () => {
    const e = engine({ encryption: { key: key1, keyId: 'k1' } });
    await e.set('tamper', { note: secret }, inAnHour());
    const item = (await rawItem('tamper')) as Record<string, AttributeValue>;
    const blob = bytesOf(item.sess);
    // 1: format, 2: key id length, 3-4: key id, then IV, ciphertext, tag
    for (const at of [1, 2, 3, 8, 20, blob.length - 10, blob.length - 1]) {
      const copy = Buffer.from(blob);
      copy[at] = (copy[at] as number) ^ 0x01;
      await putRaw({ ...item, sess: { B: copy } });
      await unreadable(e, 'tamper', `byte ${at}`);
    }
    await putRaw({ ...item, sess: { B: blob.subarray(0, 20) } });
    await unreadable(e, 'tamper', 'truncated');
  });

  test('a sealed blob copied to another session id is refused', async () => {
    const e = engine({ encryption: { key: key1 } });
    await e.set('victim', { role: 'admin' }, inAnHour());
    const stolen = (await rawItem('victim'))?.sess as AttributeValue;
    await putRaw({ id: { S: 'session#attacker' }, sess: stolen, expires: { N: String(inAnHour()) } });
    await unreadable(e, 'attacker');
    assert.deepEqual(await e.get('victim'), { role: 'admin' });
  });

  test('key rotation: the first key seals, older keys still open, an unknown key id is refused', async () => {
    const old = engine({ encryption: { key: key1, keyId: '2024' } });
    await old.set('rotate', { a: 1 }, inAnHour());
    const rotated = engine({
      encryption: [
        { key: key2, keyId: '2025' },
        { key: key1, keyId: '2024' },
      ],
    });
    assert.deepEqual(await rotated.get('rotate'), { a: 1 });
    await rotated.set('rotate', { a: 2 }, inAnHour());
    const blob = bytesOf((await rawItem('rotate'))?.sess);
    assert.equal(blob.toString('utf8', 3, 3 + (blob[2] as number)), '2025', 'new writes use the first key');
    assert.deepEqual(await engine({ encryption: { key: key2, keyId: '2025' } }).get('rotate'), { a: 2 });
    await unreadable(old, 'rotate', 'sealed with a key id it does not have');
    await unreadable(engine(), 'rotate', 'no key configured');
  });

  test('with encryption on, data that is not sealed reads as no session', async () => {
    await engine().set('plain-old', { role: 'admin' }, inAnHour());
    await engine({ compress: { threshold: 0 } }).set(
      'plain-zip',
      { role: 'admin', pad: 'x'.repeat(200) },
      inAnHour(),
    );
    assert.ok((await rawItem('plain-zip'))?.sess?.B, 'binary');
    const e = engine({ encryption: { key: key1 } });
    assert.equal(await e.get('plain-old'), null);
    assert.equal(await e.get('plain-zip'), null);
    await e.set('plain-old', { role: 'user' }, inAnHour());
    assert.deepEqual(await e.get('plain-old'), { role: 'user' });
  });
});

describe('cost', () => {
  test('compression lowers the WCU and RCU DynamoDB reports for 8 KB and 64 KB sessions', async (t) => {
    const rows: string[] = ['| JSON | form | data bytes | WCU (PutItem) | RCU (GetItem, eventual) |'];
    const figures: Record<string, number[]> = {};
    for (const kb of [2, 8, 64]) {
      const data = realisticSession(kb * 1024);
      for (const [form, options] of [
        ['map', {}],
        ['brotli', { compress: true }],
        ['gzip', { compress: { algorithm: 'gzip' } }],
      ] as const) {
        const id = `cost-${kb}-${form}`;
        await engine(options).set(id, data, inAnHour());
        const item = (await rawItem(id)) as Record<string, AttributeValue>;
        // measured on a fresh key: a PutItem over an item is billed on the larger of the two
        const put = await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: { ...item, id: { S: `${id}-copy` } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        const get = await client.send(
          new GetItemCommand({
            TableName: tableName,
            Key: { id: { S: keyOf(id) } },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        const size = item.sess?.B ? item.sess.B.length : sizeOf(toPlain(data) as Plain);
        const wcu = put.ConsumedCapacity?.CapacityUnits ?? Number.NaN;
        const rcu = get.ConsumedCapacity?.CapacityUnits ?? Number.NaN;
        figures[`${kb}-${form}`] = [wcu, rcu];
        rows.push(`| ${kb} KB | ${form} | ${size} | ${wcu} | ${rcu} |`);
      }
    }
    t.diagnostic(`\n${rows.join('\n')}`);
    for (const kb of [2, 8, 64]) {
      const [mapW = 0, mapR = 0] = figures[`${kb}-map`] ?? [];
      for (const form of ['brotli', 'gzip']) {
        const [w = 0, r = 0] = figures[`${kb}-${form}`] ?? [];
        assert.ok(w <= mapW && r <= mapR, `${kb} KB ${form}`);
        if (kb >= 8) assert.ok(w < mapW, `${kb} KB ${form} writes cost less`);
      }
    }
    const [w64 = 0] = figures['64-map'] ?? [];
    const [wb64 = 0] = figures['64-brotli'] ?? [];
    assert.ok(wb64 * 3 < w64, '64 KB: brotli writes cost under a third');
  });
});
