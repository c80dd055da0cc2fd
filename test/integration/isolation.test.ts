/**
 * Isolation: stores with different prefixes on one table never see each other's sessions, and no
 * error message or debug line carries session data or a full session id.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import express from 'express';
import session from 'express-session';
import { DynamoDBStore } from '../../adapters/express.ts';
import { DynamoDBSessionsError, SessionEngine } from '../../src/index.ts';
import { CookieJar, endpoint, freshTable, keyOf, listen, localClient, request } from './helpers.ts';

const client = await localClient();
let tableName = '';
const servers: Server[] = [];
const hourFromNow = () => Math.floor(Date.now() / 1000) + 3600;

before(async () => {
  tableName = await freshTable(client);
});
after(() => {
  for (const s of servers) s.close();
});

async function raw(key: string) {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: key } }, ConsistentRead: true }),
  );
  return out.Item;
}

describe('two prefixes on one table', () => {
  let a: SessionEngine;
  let b: SessionEngine;
  before(() => {
    a = new SessionEngine({ client, tableName, prefix: 'app-a#' });
    b = new SessionEngine({ client, tableName, prefix: 'app-b#' });
  });

  test("a store cannot read another prefix's session, even with the same id", async () => {
    await a.set('shared-id', { owner: 'a' }, hourFromNow());
    assert.equal(await b.get('shared-id'), null);
    await b.set('shared-id', { owner: 'b' }, hourFromNow());
    assert.deepEqual(await a.get('shared-id'), { owner: 'a' });
    assert.deepEqual(await b.get('shared-id'), { owner: 'b' });
  });

  test("destroying under one prefix leaves the other prefix's session of the same id intact", async () => {
    await a.set('victim', { owner: 'a' }, hourFromNow());
    const before = await raw(keyOf('victim', 'app-a#'));
    assert.ok(before, "a's session is stored under a's prefix");
    await b.destroy('victim');
    assert.deepEqual(await a.get('victim'), { owner: 'a' });
    assert.deepEqual(await raw(keyOf('victim', 'app-a#')), before);
    assert.ok((await raw(keyOf('victim', 'app-b#')))?.destroyed, "b's tombstone is under b's prefix");
  });

  test("touch and unchanged saves under one prefix never create or change the other's item", async () => {
    await a.set('touched', { owner: 'a' }, hourFromNow());
    const before = await raw(keyOf('touched', 'app-a#'));
    assert.ok(before, "a's session is stored under a's prefix");
    const zero = new SessionEngine({ client, tableName, prefix: 'app-b#', touchAfter: 0 });
    await zero.touch('touched', hourFromNow() + 7200);
    assert.equal(await raw(keyOf('touched', 'app-b#')), undefined, 'touch never creates an item');
    assert.deepEqual(await raw(keyOf('touched', 'app-a#')), before);
  });

  test("through express-session, app B treats app A's cookie (same secret, same table) as no session", async () => {
    const secret = 'shared-secret';
    async function app(prefix: string): Promise<string> {
      const web = express();
      web.use(
        session({
          store: new DynamoDBStore({ client, tableName, prefix }),
          secret,
          resave: false,
          saveUninitialized: false,
        }),
      );
      web.post('/login', (req, res, next) => {
        (req.session as unknown as { who: string }).who = prefix;
        req.session.save((err) => (err ? next(err) : res.json({ ok: true })));
      });
      web.get('/who', (req, res) => {
        res.json({ who: (req.session as unknown as { who?: string }).who ?? null });
      });
      const server = createServer(web);
      servers.push(server);
      return listen(server);
    }
    const [baseA, baseB] = await Promise.all([app('web-a#'), app('web-b#')]);
    const jar = new CookieJar();
    await request(baseA, '/login', jar, { method: 'POST' });
    assert.deepEqual((await request(baseA, '/who', jar)).body, { who: 'web-a#' });
    const other = await request(baseB, '/who', jar);
    assert.equal(other.status, 200);
    assert.deepEqual(other.body, { who: null });
    assert.deepEqual((await request(baseA, '/who', jar)).body, { who: 'web-a#' }, 'A still has it');
  });
});

describe('what errors and debug output reveal', () => {
  const dataMark = `CARD-${randomBytes(8).toString('hex')}`;
  const idMark = `SID${randomBytes(12).toString('hex')}`;

  function assertClean(err: unknown, label: string): void {
    assert.ok(err instanceof DynamoDBSessionsError, `${label}: ${String(err)}`);
    for (const text of [err.message, err.stack ?? '', String(err), inspect(err, { depth: 6 })]) {
      assert.ok(!text.includes(dataMark), `${label} shows session data`);
      assert.ok(!text.includes(idMark), `${label} shows the session id`);
    }
  }

  async function failure(run: () => Promise<unknown>): Promise<unknown> {
    try {
      await run();
    } catch (err) {
      return err;
    }
    assert.fail('expected an error');
  }

  test('no error message, stack or inspect() output shows session data or the session id', async () => {
    const engine = new SessionEngine({ client, tableName });
    const missing = new SessionEngine({ client, tableName: `missing_${randomBytes(4).toString('hex')}` });
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          id: { S: `session#${idMark}` },
          sess: { S: `{"card":"${dataMark}"` },
          expires: { N: String(hourFromNow()) },
        },
      }),
    );
    const cases: [string, () => Promise<unknown>][] = [
      ['too large', () => engine.set(idMark, { card: dataMark, pad: dataMark.repeat(30_000) })],
      ['unstorable value', () => engine.set(idMark, { card: dataMark, n: 10n })],
      ['cycle', () => engine.set(idMark, { card: dataMark, self: cyclicWith(dataMark) })],
      ['id too long', () => engine.set(idMark.repeat(100), { card: dataMark })],
      ['malformed item', () => engine.get(idMark)],
      ['store unavailable on get', () => missing.get(idMark)],
      ['store unavailable on set', () => missing.set(idMark, { card: dataMark })],
      ['store unavailable on destroy', () => missing.destroy(idMark)],
    ];
    for (const [label, run] of cases) assertClean(await failure(run), label);
  });

  test('debug output (NODE_DEBUG=dynamodb-sessions) never shows session data or a full session id', async () => {
    const usersTable = await freshTable(client, { userIndex: true });
    const { stderr, code } = await runChild(await endpoint(), tableName, usersTable, idMark, dataMark);
    assert.equal(code, 0, stderr);
    const lines = stderr.split('\n').filter((l) => l.includes('DYNAMODB-SESSIONS'));
    assert.ok(lines.length >= 3, `expected a debug line per logging path, got:\n${stderr}`);
    for (const line of lines) {
      assert.ok(!line.includes(dataMark), `debug output shows session data: ${line}`);
      assert.ok(!line.includes(idMark), `debug output shows a full session id: ${line}`);
    }
  });
});

function cyclicWith(mark: string): Record<string, unknown> {
  const o: Record<string, unknown> = { mark };
  o.self = o;
  return o;
}

/**
 * Runs, in a child process with NODE_DEBUG set, each path that writes debug output: a save that
 * loses against a destroy, an unsealed item read with encryption on, and a user listing that meets
 * an item without a numeric expiry.
 */
function runChild(
  ddbEndpoint: string,
  table: string,
  usersTable: string,
  id: string,
  mark: string,
): Promise<{ stderr: string; code: number | null }> {
  const src = new URL('../../src/index.ts', import.meta.url).href;
  const script = `
    const { SessionEngine } = await import(${JSON.stringify(src)});
    const { DynamoDBClient, PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    const client = new DynamoDBClient({ region: 'us-east-1', endpoint: process.env.DDB, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const id = process.env.SID, mark = process.env.MARK, exp = Math.floor(Date.now() / 1000) + 3600;
    const a = new SessionEngine({ client, tableName: process.env.TABLE });
    const b = new SessionEngine({ client, tableName: process.env.TABLE });
    await a.set(id + 'race', { card: mark }, exp);
    await b.load(id + 'race');
    await a.destroy(id + 'race');
    await b.set(id + 'race', { card: mark, more: mark }, exp);
    await b.touch(id + 'race', exp + 7200);
    await a.set(id + 'plain', { card: mark }, exp);
    const sealed = new SessionEngine({ client, tableName: process.env.TABLE, encryption: { key: Buffer.from('9f1c2e7a4b8d03f6e5a1c7b9d2f48e6a0b3c5d7e9f1a2b4c6d8e0f1a3b5c7d9e', 'hex') } });
    if ((await sealed.get(id + 'plain')) !== null) throw new Error('unsealed data was trusted');
    await client.send(new PutItemCommand({ TableName: process.env.USERS, Item: {
      id: { S: 'session#' + id + 'user' }, uid: { S: 'user-1' }, sess: { M: { card: { S: mark } } }, expires: { S: 'soon' } } }));
    const users = new SessionEngine({ client, tableName: process.env.USERS, userId: (s) => s.uid });
    await users.listUserSessions('user-1');
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: {
        ...process.env,
        NODE_DEBUG: 'dynamodb-sessions',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        DDB: ddbEndpoint,
        TABLE: table,
        USERS: usersTable,
        SID: id,
        MARK: mark,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ stderr, code });
    });
  });
}
