/**
 * Bad input: every case ends in a typed error (class and `code` checked) or a safe refusal, and a
 * session stored beside it in the same table is left exactly as it was.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, afterEach, before, describe, test } from 'node:test';
import {
  type AttributeValue,
  CreateTableCommand,
  GetItemCommand,
  PutItemCommand,
  type ScalarAttributeType,
} from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import Fastify, { type FastifyInstance } from 'fastify';
import Koa from 'koa';
import { DynamoDBStore } from '../../adapters/express.ts';
import { dynamodbSessions } from '../../adapters/fastify.ts';
import { dynamodbSession } from '../../adapters/koa.ts';
import {
  DynamoDBSessionsError,
  type EngineOptions,
  InvalidOptionError,
  InvalidSessionIdError,
  ITEM_LIMIT_BYTES,
  MalformedItemError,
  SessionDataError,
  SessionEngine,
  SessionTooLargeError,
  StoreUnavailableError,
} from '../../src/index.ts';
import { CookieJar, countCommands, freshTable, keyOf, listen, localClient, request } from './helpers.ts';

const client = await localClient();
const counter = countCommands(client);
const admin = await localClient();
const appClient = await localClient();
const appCounter = countCommands(appClient);
let tableName = '';
let engine: SessionEngine;
const bystanderId = 'bystander-0123456789abcdefghijkl';
const bystanderData = { cookie: { originalMaxAge: null }, roles: ['admin'], user: { name: 'grace' } };
let bystanderItem: Record<string, AttributeValue> | undefined;
const caught: DynamoDBSessionsError[] = [];
const servers: Server[] = [];
const fastifyApps: FastifyInstance[] = [];
const secret = 'bad-input-secret';
const hourFromNow = () => Math.floor(Date.now() / 1000) + 3600;

async function rawItem(key: string): Promise<Record<string, AttributeValue> | undefined> {
  const out = await admin.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: key } }, ConsistentRead: true }),
  );
  return out.Item;
}

/** Runs `run`, expects an error of `Class` with `code`, records it for the final check and returns it. */
async function refused<E extends DynamoDBSessionsError>(
  run: () => unknown,
  Class: abstract new (...args: never[]) => E,
  code: string,
): Promise<E> {
  let error: unknown;
  try {
    await run();
  } catch (err) {
    error = err;
  }
  assert.ok(error instanceof Class, `expected ${Class.name}, got ${String(error)}`);
  assert.equal(error.code, code);
  caught.push(error);
  return error;
}

function cyclic(): Record<string, unknown> {
  const a: Record<string, unknown> = { name: 'a' };
  a.self = a;
  return a;
}

function nested(levels: number): Record<string, unknown> {
  let o: Record<string, unknown> = { leaf: 1 };
  for (let i = 1; i < levels; i++) o = { n: o };
  return o;
}

before(async () => {
  tableName = await freshTable(admin);
  engine = new SessionEngine({ client, tableName });
  await engine.set(bystanderId, bystanderData, hourFromNow());
  bystanderItem = await rawItem(keyOf(bystanderId));
  assert.ok(bystanderItem);
});

afterEach(async () => {
  const reader = new SessionEngine({ client: admin, tableName });
  assert.deepEqual(await reader.get(bystanderId), bystanderData, 'the other session reads the same');
  assert.deepEqual(await rawItem(keyOf(bystanderId)), bystanderItem, 'its item is unchanged');
});

after(async () => {
  for (const s of servers) s.close();
  await Promise.all(fastifyApps.map((app) => app.close()));
});

describe('session data that cannot be stored', () => {
  const tooLarge: [string, () => Record<string, unknown>][] = [
    ['one 450 KB string', () => ({ blob: 'x'.repeat(450 * 1024) })],
    ['140,000 three-byte characters (420 KB in UTF-8)', () => ({ blob: '€'.repeat(140_000) })],
    [
      '40,000 small keys',
      () =>
        Object.fromEntries(
          Array.from({ length: 40_000 }, (_, i) => [`key${String(i).padStart(6, '0')}`, 'value']),
        ),
    ],
    [
      '46,000 twelve-digit numbers',
      () => ({ list: Array.from({ length: 46_000 }, (_, i) => 123456789.123 + i) }),
    ],
  ];
  for (const [label, make] of tooLarge) {
    test(`a session over 400 KB (${label}) is refused with SessionTooLargeError and nothing is written`, async () => {
      const id = `large-${randomBytes(4).toString('hex')}`;
      counter.reset();
      const err = await refused(() => engine.set(id, make()), SessionTooLargeError, 'ERR_SESSION_TOO_LARGE');
      assert.ok(err.sizeBytes > ITEM_LIMIT_BYTES && err.limitBytes === ITEM_LIMIT_BYTES);
      assert.equal(counter.writes(), 0, 'no write was sent');
      assert.equal(await rawItem(keyOf(id)), undefined);
    });
  }

  test('a session just under 400 KB is stored and read back whole', async () => {
    const blob = 'y'.repeat(ITEM_LIMIT_BYTES - 200);
    await engine.set('almost-full', { blob }, hourFromNow());
    assert.equal((await new SessionEngine({ client: admin, tableName }).get('almost-full'))?.blob, blob);
  });

  const unstorable: [string, () => unknown, string][] = [
    ['a cyclic object', () => ({ a: cyclic() }), 'session.a.self'],
    ['a cycle through an array', () => ({ list: [cyclic()] }), 'session.list[0].self'],
    ['a BigInt', () => ({ big: 10n }), 'session.big'],
    ['a function', () => ({ fn: () => 1 }), 'session.fn'],
    ['a symbol value', () => ({ sym: Symbol('s') }), 'session.sym'],
    ['a number above 9.9E+125', () => ({ n: 1e200 }), 'session.n'],
    ['a number below 1E-130', () => ({ deep: { n: -1e-200 } }), 'session.deep.n'],
    ['nesting deeper than DynamoDB allows', () => nested(32), 'session.n'],
    ['an empty key', () => ({ form: { '': 'x' } }), 'session.form[""]'],
    ['null instead of an object', () => null, 'session'],
    ['an array instead of an object', () => [1, 2], 'session'],
    ['a string instead of an object', () => 'text', 'session'],
  ];
  for (const [label, make, path] of unstorable) {
    test(`${label} is refused with SessionDataError naming ${path}, before any write`, async () => {
      counter.reset();
      const id = `data-${randomBytes(4).toString('hex')}`;
      const err = await refused(
        () => engine.set(id, make() as Record<string, unknown>),
        SessionDataError,
        'ERR_SESSION_DATA',
      );
      assert.ok(err.path.startsWith(path), `path ${err.path}`);
      assert.equal(counter.writes(), 0);
    });
  }

  test('nesting as deep as DynamoDB allows (31 levels) is stored', async () => {
    await engine.set('deep-31', nested(31), hourFromNow());
    assert.deepEqual(await new SessionEngine({ client: admin, tableName }).get('deep-31'), nested(31));
  });

  test('values JSON cannot keep are stored as JSON would store them', async () => {
    const sym = Symbol('hidden');
    const data = {
      list: [1, undefined, 'x'],
      gone: undefined,
      [sym]: 'symbol keys are skipped',
      when: new Date('2024-05-06T07:08:09.010Z'),
      nestedDates: { at: [new Date(0), { d: new Date(86_400_000) }] },
      invalidDate: new Date(Number.NaN),
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      map: new Map([['k', 'v']]),
      shared: { a: [1], b: [1] },
    };
    await engine.set('json-like', data, hourFromNow());
    const back = await new SessionEngine({ client: admin, tableName }).get('json-like');
    assert.deepEqual(back, JSON.parse(JSON.stringify(data)));
    assert.deepEqual(back?.list, [1, null, 'x']);
    assert.equal(back?.when, '2024-05-06T07:08:09.010Z');
  });

  test('numbers at the edges of DynamoDB range and full double precision read back exactly', async () => {
    const data = { max: 9.9e125, min: 1e-130, safe: Number.MAX_SAFE_INTEGER, sum: 0.1 + 0.2, negZero: -0 };
    await engine.set('numbers', data, hourFromNow());
    const back = await new SessionEngine({ client: admin, tableName }).get('numbers');
    assert.deepEqual(back, {
      max: 9.9e125,
      min: 1e-130,
      safe: Number.MAX_SAFE_INTEGER,
      sum: 0.1 + 0.2,
      negZero: 0,
    });
  });

  test('a "__proto__" key is stored as data: it never becomes a prototype or leaks keys upward', async () => {
    const data = JSON.parse('{"prefs":{"__proto__":{"isAdmin":true},"theme":"dark"}}') as Record<
      string,
      unknown
    >;
    await engine.set('proto', data, hourFromNow());
    const back = (await new SessionEngine({ client: admin, tableName }).get('proto')) as {
      prefs: Record<string, unknown>;
    };
    assert.equal(back.prefs.isAdmin, undefined, 'no key moved up from __proto__');
    assert.equal(Object.getPrototypeOf(back.prefs), Object.prototype);
    assert.deepEqual(Object.keys(back.prefs), ['__proto__', 'theme']);
    assert.equal(JSON.stringify(back), JSON.stringify(data));
  });

  test('lone surrogates and control characters in strings read back unchanged', async () => {
    const data = { s: 'a\uD800b\u0000c\n\u202Ed' };
    await engine.set('odd-strings', data, hourFromNow());
    assert.deepEqual(await new SessionEngine({ client: admin, tableName }).get('odd-strings'), data);
  });
});

describe('session ids', () => {
  const exp = hourFromNow();
  const prefixBytes = Buffer.byteLength('session#');

  test('an empty id: set throws InvalidSessionIdError, get is null and destroy a no-op, with no DynamoDB call', async () => {
    counter.reset();
    await refused(() => engine.set('', { a: 1 }, exp), InvalidSessionIdError, 'ERR_INVALID_SESSION_ID');
    assert.equal(await engine.get(''), null);
    await engine.destroy('');
    await engine.touch('', exp);
    assert.deepEqual(counter.counts, {});
  });

  for (const [label, id] of [
    ['ASCII', 'a'.repeat(2049 - prefixBytes)],
    ['three-byte characters (fewer than 2048 characters)', '€'.repeat(683)],
  ] as const) {
    test(`an id over 2048 bytes with the prefix (${label}) is refused on set and reads as null without a call`, async () => {
      counter.reset();
      await refused(() => engine.set(id, { a: 1 }, exp), InvalidSessionIdError, 'ERR_INVALID_SESSION_ID');
      assert.equal(await engine.get(id), null);
      await engine.destroy(id);
      assert.deepEqual(counter.counts, {});
    });
  }

  test('an id of exactly 2048 bytes with the prefix is stored and read', async () => {
    const id = 'b'.repeat(2048 - prefixBytes);
    await engine.set(id, { ok: true }, exp);
    assert.deepEqual(await engine.get(id), { ok: true });
  });

  test('a non-string id is refused on set and reads as null', async () => {
    await refused(
      () => engine.set(42 as unknown as string, { a: 1 }, exp),
      InvalidSessionIdError,
      'ERR_INVALID_SESSION_ID',
    );
    assert.equal(await engine.get(undefined as unknown as string), null);
  });

  test('ids containing "#" are distinct sessions, also from ids their parts would make', async () => {
    await engine.set('x#y', { which: 'x#y' }, exp);
    await engine.set('x', { which: 'x' }, exp);
    assert.deepEqual(await engine.get('x#y'), { which: 'x#y' });
    assert.deepEqual(await engine.get('x'), { which: 'x' });
    assert.equal(await engine.get('y'), null);
    assert.equal(await engine.get('x#'), null);
    assert.equal(await engine.get('#y'), null);
  });

  test('unicode, emoji and control-character ids are their own sessions', async () => {
    const ids = ['セッション', '🍪🍪', 'caf\u00e9', 'cafe\u0301', 'a\u0000b', 'line\nbreak', '\uD800x'];
    for (const [i, id] of ids.entries()) await engine.set(id, { i }, exp);
    for (const [i, id] of ids.entries()) assert.deepEqual(await engine.get(id), { i }, JSON.stringify(id));
  });
});

describe('malformed items written into the table', () => {
  const future = { N: String(hourFromNow()) };
  const cases: [string, Record<string, AttributeValue>, string][] = [
    ['sess is a number', { sess: { N: '1' }, expires: future }, 'sess'],
    ['sess is missing', { expires: future }, 'sess'],
    ['sess is a list', { sess: { L: [{ S: 'a' }] }, expires: future }, 'sess'],
    ['sess is NULL', { sess: { NULL: true }, expires: future }, 'sess'],
    ['sess is a boolean', { sess: { BOOL: true }, expires: future }, 'sess'],
    ['sess is binary garbage', { sess: { B: randomBytes(64) }, expires: future }, 'sess'],
    [
      'sess claims to be gzip but is not',
      { sess: { B: Buffer.concat([Buffer.from([0xdb, 1]), randomBytes(32)]) }, expires: future },
      'sess',
    ],
    [
      'sess holds binary inside its map',
      { sess: { M: { a: { B: randomBytes(4) } } }, expires: future },
      'sess',
    ],
    ['sess is a string that is not JSON', { sess: { S: '{"user": "ada"' }, expires: future }, 'sess'],
    ['sess is a JSON string of an array', { sess: { S: '[1,2]' }, expires: future }, 'sess'],
    ['sess is a JSON string of null', { sess: { S: 'null' }, expires: future }, 'sess'],
    ['expires is missing', { sess: { M: {} } }, 'expires'],
    ['expires is a string', { sess: { M: {} }, expires: { S: 'tomorrow' } }, 'expires'],
    ['expires is a boolean', { sess: { M: {} }, expires: { BOOL: true } }, 'expires'],
  ];
  for (const [label, attributes, attribute] of cases) {
    test(`an item whose ${label} reads as MalformedItemError naming "${attribute}"`, async () => {
      const id = `bad-${randomBytes(4).toString('hex')}`;
      await admin.send(
        new PutItemCommand({ TableName: tableName, Item: { id: { S: `session#${id}` }, ...attributes } }),
      );
      const err = await refused(() => engine.get(id), MalformedItemError, 'ERR_MALFORMED_ITEM');
      assert.equal(err.attribute, attribute);
      assert.match(err.message, new RegExp(`"${attribute}"`));
    });
  }
});

describe('wrong options', () => {
  const cases: [string, EngineOptions, string][] = [
    ['an empty table name', { tableName: '' }, 'tableName'],
    ['a table name with a space', { tableName: 'my sessions' }, 'tableName'],
    ['a negative touchAfter', { touchAfter: -1 }, 'touchAfter'],
    ['a NaN touchAfter', { touchAfter: Number.NaN }, 'touchAfter'],
    ['a ttl of 0', { ttl: 0 }, 'ttl'],
    ['a negative tombstoneSeconds', { tombstoneSeconds: -5 }, 'tombstoneSeconds'],
    ['a hash key with invalid characters', { hashKey: 'bad name!' }, 'hashKey'],
    ['a data attribute over 255 characters', { dataAttribute: 'd'.repeat(256) }, 'dataAttribute'],
    [
      'the expiry in the data attribute',
      { dataAttribute: 'data', expiresAttribute: 'data' },
      'expiresAttribute',
    ],
    ['the tombstone marker on the data', { tombstoneAttribute: 'sess' }, 'tombstoneAttribute'],
    ['the hash key as the expiry', { expiresAttribute: 'id' }, 'expiresAttribute'],
    ['a string for consistentRead', { consistentRead: 'yes' as unknown as boolean }, 'consistentRead'],
    ['a prefix over 1024 bytes', { prefix: 'p'.repeat(1025) }, 'prefix'],
    ['a userId that is not a function', { userId: 'uid' as unknown as () => string }, 'userId'],
    ['a negative cacheSize', { cacheSize: -1 }, 'cacheSize'],
  ];
  for (const [label, options, option] of cases) {
    test(`${label} throws InvalidOptionError naming ${option}`, async () => {
      const err = await refused(
        () => new SessionEngine({ client, ...options }),
        InvalidOptionError,
        'ERR_INVALID_OPTION',
      );
      assert.equal(err.option, option);
      assert.match(err.message, new RegExp(`\\b${option}\\b`));
    });
  }
});

describe('tables that do not fit', () => {
  async function oddTable(key: string, type: ScalarAttributeType, sortKey = false): Promise<string> {
    const name = `odd_${randomBytes(6).toString('hex')}`;
    await admin.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [
          { AttributeName: key, AttributeType: type },
          ...(sortKey ? [{ AttributeName: 'sk', AttributeType: 'S' as const }] : []),
        ],
        KeySchema: [
          { AttributeName: key, KeyType: 'HASH' },
          ...(sortKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : []),
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    return name;
  }

  const tables: [string, () => Promise<string>, string][] = [
    ['a missing table', async () => `missing_${randomBytes(6).toString('hex')}`, 'ResourceNotFoundException'],
    ['a table keyed on another attribute', () => oddTable('pk', 'S'), 'ValidationException'],
    ['a table with a numeric key', () => oddTable('id', 'N'), 'ValidationException'],
    ['a table with a sort key', () => oddTable('id', 'S', true), 'ValidationException'],
  ];
  for (const [label, make, causeName] of tables) {
    test(`${label}: get, set and destroy throw StoreUnavailableError (503) keeping the ${causeName}`, async () => {
      const odd = new SessionEngine({ client, tableName: await make() });
      for (const run of [() => odd.get('s1'), () => odd.set('s1', { a: 1 }), () => odd.destroy('s1')]) {
        const err = await refused(run, StoreUnavailableError, 'ERR_STORE_UNAVAILABLE');
        assert.equal(err.status, 503);
        assert.equal(err.throttled, false);
        assert.ok(err.cause instanceof Error && err.cause.name === causeName, String(err.cause));
      }
    });
  }
});

describe('cookies through express-session', () => {
  let base = '';
  const errors: unknown[] = [];

  function signed(sid: string, key = secret): string {
    const mac = createHmac('sha256', key).update(sid).digest('base64').replace(/=+$/, '');
    return encodeURIComponent(`s:${sid}.${mac}`);
  }

  async function startApp(store: DynamoDBStore): Promise<string> {
    const app = express();
    app.use(
      session({ store, secret, resave: false, saveUninitialized: false, cookie: { maxAge: 3_600_000 } }),
    );
    app.get('/whoami', (req, res) => {
      res.json({ user: (req.session as unknown as { user?: unknown }).user ?? null });
    });
    app.post('/login', (req, res, next) => {
      (req.session as unknown as { user: unknown }).user = { name: 'mallory-target' };
      req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
    });
    app.use((err: DynamoDBSessionsError, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(err);
      res.status(err.status ?? 500).json({ code: err.code });
    });
    const server = createServer(app);
    servers.push(server);
    return listen(server);
  }

  before(async () => {
    base = await startApp(new DynamoDBStore({ client: appClient, tableName }));
  });

  const forged: [string, () => string][] = [
    [
      "another session's id with a made-up signature",
      () => encodeURIComponent(`s:${bystanderId}.${'A'.repeat(43)}`),
    ],
    ["another session's id signed with another secret", () => signed(bystanderId, 'not-the-secret')],
    [
      'a valid cookie with one character of the id changed',
      () => signed(bystanderId).replace('bystander', 'bystandes'),
    ],
    ['an unsigned id', () => bystanderId],
    ['an empty signed value', () => encodeURIComponent('s:')],
    ['4 KB of noise', () => randomBytes(3072).toString('base64url')],
    ['malformed percent-encoding', () => '%E0%A4%A'],
  ];
  for (const [label, value] of forged) {
    test(`a cookie with ${label} gets a new anonymous session, with no DynamoDB read and no error`, async () => {
      const jar = new CookieJar();
      jar.cookies.set('connect.sid', value());
      appCounter.reset();
      const before = errors.length;
      const res = await request(base, '/whoami', jar);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { user: null });
      assert.equal(appCounter.of('GetItemCommand'), 0, 'the forged id was never read');
      assert.equal(errors.length, before);
      assert.deepEqual(res.res.headers.getSetCookie(), [], 'nothing stored for an anonymous visit');
    });
  }

  test('a malformed item behind a valid cookie answers 500 with its code, sets no cookie and is left alone', async () => {
    const jar = new CookieJar();
    await request(base, '/login', jar, { method: 'POST' });
    const raw = decodeURIComponent(jar.cookies.get('connect.sid') ?? '');
    const key = keyOf(raw.slice(2, raw.lastIndexOf('.')));
    const broken = { id: { S: key }, sess: { S: 'not json' }, expires: { N: String(hourFromNow()) } };
    await admin.send(new PutItemCommand({ TableName: tableName, Item: broken }));
    const res = await request(base, '/whoami', jar);
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, { code: 'ERR_MALFORMED_ITEM' });
    assert.deepEqual(res.res.headers.getSetCookie(), []);
    assert.deepEqual(await rawItem(key), broken);
    caught.push(...errors.filter((e): e is DynamoDBSessionsError => e instanceof DynamoDBSessionsError));
  });

  test('a missing table behind a valid cookie answers 503, not a new session', async () => {
    const missing = await startApp(new DynamoDBStore({ client: appClient, tableName: 'missing_table_x' }));
    const jar = new CookieJar();
    jar.cookies.set('connect.sid', signed(bystanderId));
    const res = await request(missing, '/whoami', jar);
    assert.equal(res.status, 503);
    assert.deepEqual(res.body, { code: 'ERR_STORE_UNAVAILABLE' });
    assert.deepEqual(res.res.headers.getSetCookie(), []);
  });
});

describe('forged cookies through @fastify/session and koa-session', () => {
  async function fastifyBase(): Promise<string> {
    const app = Fastify();
    fastifyApps.push(app);
    await app.register(dynamodbSessions, {
      secret: 'a secret of at least thirty-two characters',
      client: appClient,
      tableName,
      saveUninitialized: false,
    });
    app.get('/whoami', async (req) => ({
      user: (req.session as unknown as { user?: unknown }).user ?? null,
    }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  async function koaBase(): Promise<string> {
    const app = new Koa();
    app.keys = ['bad-input-key'];
    app.use(dynamodbSession(app, { client: appClient, tableName }));
    app.use((ctx) => {
      ctx.body = { user: (ctx.session as unknown as { user?: unknown } | null)?.user ?? null };
    });
    const server = createServer(app.callback());
    servers.push(server);
    return listen(server);
  }

  const cases: [string, () => Promise<string>, Record<string, string>][] = [
    ['fastify, a made-up signature', fastifyBase, { sessionId: `${bystanderId}.${'A'.repeat(43)}` }],
    ['fastify, an unsigned id', fastifyBase, { sessionId: bystanderId }],
    ['koa, a made-up signature', koaBase, { 'koa.sess': bystanderId, 'koa.sess.sig': 'A'.repeat(27) }],
    ['koa, an unsigned key', koaBase, { 'koa.sess': bystanderId }],
  ];
  for (const [label, start, cookies] of cases) {
    test(`${label}: a new anonymous session, with no DynamoDB read of the forged id`, async () => {
      const base = await start();
      const jar = new CookieJar();
      for (const [name, value] of Object.entries(cookies)) jar.cookies.set(name, value);
      appCounter.reset();
      const res = await request(base, '/whoami', jar);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { user: null });
      assert.equal(appCounter.of('GetItemCommand'), 0, 'the forged id was never read');
    });
  }
});

test('no error thrown above uses code ENOENT or a 4xx status', () => {
  assert.ok(caught.length >= 60, `${caught.length} errors checked`);
  for (const err of caught) {
    assert.notEqual(err.code, 'ENOENT');
    assert.ok(err.status >= 500 && err.statusCode >= 500, `${err.code} has status ${err.status}`);
  }
  console.log(`bad input: ${caught.length} typed errors checked, none ENOENT or 4xx`);
});
