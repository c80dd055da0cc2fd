/**
 * Races: a destroy racing a save or a touch of the same session, from two instances sharing one
 * table, never brings the session back; a login is found at once by another instance even through a
 * stale replica; 1,000 concurrent requests on one session leave one of the states they wrote.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { DynamoDBStore } from '../../adapters/express.ts';
import { SessionEngine, type SessionRecord } from '../../src/index.ts';
import {
  CookieJar,
  countCommands,
  endpoint,
  freshTable,
  keyOf,
  listen,
  localClient,
  request,
} from './helpers.ts';

const admin = await localClient();
let tableName = '';
const servers: Server[] = [];
const races = 1_000;
const batch = 50;

before(async () => {
  tableName = await freshTable(admin);
});
after(() => {
  for (const s of servers) s.close();
});

/** Counts the writes refused by their condition (the tombstone won) and those that succeeded. */
function outcomes(client: DynamoDBClient): { succeeded: number; refused: number } {
  const seen = { succeeded: 0, refused: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!/^(PutItem|UpdateItem)Command$/.test(String(context.commandName))) return next(args);
      try {
        const out = await next(args);
        seen.succeeded++;
        return out;
      } catch (err) {
        if (err instanceof Error && err.name === 'ConditionalCheckFailedException') seen.refused++;
        throw err;
      }
    },
    { step: 'initialize', name: 'raceOutcomes' },
  );
  return seen;
}

/** After a race: `get` is null and the item is a tombstone or gone, never a session. */
async function resurrected(ids: string[]): Promise<string[]> {
  const reader = new SessionEngine({ client: admin, tableName });
  const back: string[] = [];
  for (let i = 0; i < ids.length; i += batch) {
    await Promise.all(
      ids.slice(i, i + batch).map(async (id) => {
        const { Item } = await admin.send(
          new GetItemCommand({
            TableName: tableName,
            Key: { id: { S: keyOf(id) } },
            ConsistentRead: true,
          }),
        );
        const isSession = Item !== undefined && Item.destroyed === undefined;
        if ((await reader.get(id)) !== null || isSession || Item?.sess !== undefined) back.push(id);
      }),
    );
  }
  return back;
}

describe('destroy racing a write of the same session on another instance', () => {
  test(`${races} destroy-vs-save races: no session comes back`, async () => {
    const clientB = await localClient();
    const writes = countCommands(clientB);
    const seen = outcomes(clientB);
    const result = await raceWith(clientB, 'save', (b, id, n, loaded) =>
      b.set(id, { user: 'ada', n: n + 1 }, undefined, { loaded }),
    );
    const back = await resurrected(result);
    assert.equal(writes.of('PutItemCommand'), races, 'every save was sent');
    console.log(
      `destroy vs save: ${races} races, ${seen.succeeded} saves landed before the destroy, ${seen.refused} refused by the tombstone, ${back.length} resurrections`,
    );
    assert.equal(seen.succeeded + seen.refused, races);
    assert.ok(seen.succeeded > 0 && seen.refused > 0, 'both orders happened');
    assert.deepEqual(back, []);
  });

  test(`${races} destroy-vs-touch races: no session comes back`, async () => {
    const clientB = await localClient();
    const writes = countCommands(clientB);
    const seen = outcomes(clientB);
    const later = Math.floor(Date.now() / 1000) + 7200;
    const result = await raceWith(clientB, 'touch', (b, id) => b.touch(id, later), { touchAfter: 0 });
    const back = await resurrected(result);
    assert.equal(writes.of('UpdateItemCommand'), races, 'every touch was sent');
    console.log(
      `destroy vs touch: ${races} races, ${seen.succeeded} touches landed before the destroy, ${seen.refused} refused by the tombstone, ${back.length} resurrections`,
    );
    assert.equal(seen.succeeded + seen.refused, races);
    assert.ok(seen.succeeded > 0 && seen.refused > 0, 'both orders happened');
    assert.deepEqual(back, []);
  });

  test('a save arriving after the destroy is refused, with tombstones and without (tombstoneSeconds 0)', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    for (const tombstoneSeconds of [3600, 0]) {
      const a = new SessionEngine({ client: await localClient(), tableName, tombstoneSeconds });
      const b = new SessionEngine({ client: await localClient(), tableName, tombstoneSeconds });
      const id = `late-save-${tombstoneSeconds}`;
      await a.set(id, { user: 'ada' }, exp);
      const loaded = await b.load(id);
      await a.destroy(id);
      await b.set(id, { user: 'ada', cart: 1 }, exp, { loaded });
      const back = await resurrected([id]);
      assert.deepEqual(back, [], `tombstoneSeconds ${tombstoneSeconds}`);
    }
  });
});

/**
 * Runs `races` races in batches: instance B (on `clientB`, so the caller can observe its calls)
 * loads a session, then instance A destroys it while B writes it. The issue order alternates.
 */
async function raceWith(
  clientB: DynamoDBClient,
  label: string,
  write: (
    b: SessionEngine,
    id: string,
    n: number,
    loaded: SessionRecord<Record<string, unknown>>,
  ) => Promise<unknown>,
  bOptions: { touchAfter?: number } = {},
): Promise<string[]> {
  const a = new SessionEngine({ client: await localClient(), tableName });
  const b = new SessionEngine({ client: clientB, tableName, ...bOptions });
  const setup = new SessionEngine({ client: admin, tableName });
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const ids = Array.from({ length: races }, (_, i) => `${label}-${i}`);
  const deadline = Date.now() + 90_000;
  for (let i = 0; i < races; i += batch) {
    assert.ok(Date.now() < deadline, 'the races took longer than 90 s');
    const slice = ids.slice(i, i + batch);
    await Promise.all(slice.map((id) => setup.set(id, { user: 'ada', n: 0 }, exp)));
    const loads = new Map<string, SessionRecord<Record<string, unknown>>>();
    await Promise.all(
      slice.map(async (id) => {
        const loaded = await b.load(id);
        assert.ok(loaded, 'B loaded the session');
        loads.set(id, loaded);
      }),
    );
    await Promise.all(
      slice.map((id, k) => {
        const n = i + k;
        const loaded = loads.get(id);
        if (!loaded) throw new Error(`${id} was not loaded`);
        const writeB = () => write(b, id, n, loaded);
        // alternate which call is issued first, and sometimes let the write get a head start
        if (n % 3 === 0) return Promise.all([a.destroy(id), writeB()]);
        if (n % 3 === 1) return Promise.all([writeB(), a.destroy(id)]);
        return Promise.all([writeB(), new Promise((r) => setImmediate(r)).then(() => a.destroy(id))]);
      }),
    );
  }
  return ids;
}

/**
 * A replica that has not seen recent writes: eventually consistent GetItems answer "no item".
 * DynamoDB Local is always consistent, so the stale answer is injected; consistent reads pass.
 */
function staleReplica(client: DynamoDBClient): { staleAnswers: number } {
  const seen = { staleAnswers: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { ConsistentRead?: boolean };
      if (context.commandName !== 'GetItemCommand' || input.ConsistentRead) return next(args);
      seen.staleAnswers++;
      return { output: { $metadata: {} }, response: {} } as unknown as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'staleReplica' },
  );
  return seen;
}

describe('a login read at once by another instance (read-your-login)', () => {
  test(`${races} logins read through a stale replica right after the write: none is missed`, async () => {
    const a = new SessionEngine({ client: await localClient(), tableName });
    const clientB = await localClient();
    const stale = staleReplica(clientB);
    const b = new SessionEngine({ client: clientB, tableName });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    let missed = 0;
    for (let i = 0; i < races; i += batch) {
      await Promise.all(
        Array.from({ length: batch }, async (_, k) => {
          const id = `login-${i + k}`;
          await a.set(id, { user: `u${i + k}` }, exp);
          if ((await b.get(id))?.user !== `u${i + k}`) missed++;
        }),
      );
    }
    console.log(`read-your-login: ${races} logins, ${stale.staleAnswers} stale reads, ${missed} missed`);
    assert.equal(stale.staleAnswers, races, 'every first read was stale');
    assert.equal(missed, 0);
  });

  test('with consistentReadOnMiss false, the same stale read answers "no session"', async () => {
    const a = new SessionEngine({ client: await localClient(), tableName });
    const clientB = await localClient();
    staleReplica(clientB);
    const b = new SessionEngine({ client: clientB, tableName, consistentReadOnMiss: false });
    await a.set('login-unguarded', { user: 'ada' }, Math.floor(Date.now() / 1000) + 3600);
    assert.equal(await b.get('login-unguarded'), null);
  });
});

describe('1,000 concurrent requests on one session through express-session', () => {
  test('no crash, every answer is 2xx or 5xx, and the final state is one of the states written', async () => {
    const store = new DynamoDBStore({
      tableName,
      clientConfig: {
        region: 'us-east-1',
        endpoint: await endpoint(),
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      },
    });
    const app = express();
    app.use(session({ store, secret: 'race-secret', resave: false, saveUninitialized: false }));
    app.post('/bump/:i', async (req, res) => {
      const s = req.session as unknown as Record<string, unknown>;
      const i = Number(req.params.i);
      s.last = i;
      s.tag = `v${i}`;
      s.count = Number(s.count ?? 0) + 1;
      await new Promise<void>((resolve, reject) =>
        req.session.save((err) => (err ? reject(err) : resolve())),
      );
      res.json({ i });
    });
    app.get('/state', (req, res) => {
      const { last, tag } = req.session as unknown as Record<string, unknown>;
      res.json({ last: last ?? null, tag: tag ?? null });
    });
    app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      res.status(err.status ?? 500).json({ error: true });
    });
    const server = createServer(app);
    servers.push(server);
    const base = await listen(server);
    const jar = new CookieJar();
    assert.equal((await request(base, '/bump/-1', jar, { method: 'POST' })).status, 200);
    const cookie = jar.header();
    const statuses = new Map<number, number>();
    const ok = new Set<number>();
    let newCookies = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => {
        const res = await fetch(`${base}/bump/${i}`, {
          method: 'POST',
          headers: { cookie },
          signal: AbortSignal.timeout(60_000),
        });
        await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200) ok.add(i);
        for (const line of res.headers.getSetCookie())
          if (!cookie.includes(line.split(';')[0] ?? '')) newCookies++;
      }),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const final = (await request(base, '/state', jar)).body as { last: number; tag: string };
    console.log(
      `1,000 concurrent requests on one session in ${seconds} s: statuses ${JSON.stringify(Object.fromEntries(statuses))}, final last=${final.last}`,
    );
    for (const status of statuses.keys()) assert.ok(status === 200 || status >= 500, `status ${status}`);
    assert.equal(newCookies, 0, 'no response switched the browser to another session');
    assert.ok(Number.isInteger(final.last) && final.last >= 0 && final.last < 1_000, `last ${final.last}`);
    assert.equal(final.tag, `v${final.last}`, 'the final state is one whole write, not a mix');
    if (statuses.size === 1)
      assert.ok(ok.has(final.last), 'with every write acknowledged, the final one was too');
    assert.equal(server.listening, true);
  });
});
