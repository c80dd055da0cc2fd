/**
 * Crash and restart. This file starts its own DynamoDB Local, on disk (`-dbPath`), on a fixed port;
 * drives logins and writes through a real Express app; kills DynamoDB Local with SIGKILL in the
 * middle of the load; restarts it on the same port and folder; and checks that every write the
 * app acknowledged is still there, that every failure reached the client as a 5xx within the
 * client's time bounds, and that the same app serves again without a restart.
 *
 * The routes answer only once `req.session.save()` has called back: express-session's automatic
 * save runs after the response is written, so a route that relies on it may answer 200 for a write
 * that then fails.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { DynamoDBStore } from '../../adapters/express.ts';
import { freePort, type LocalDynamoDB, startDynamoDBLocal } from '../../dev/dynamodb-local.ts';
import { createTable, SessionEngine } from '../../src/index.ts';
import { CookieJar, listen } from './helpers.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
const tableName = 'sessions';
const workers = 12;
// the load runs until this many writes are acknowledged (or 30 s) before the kill, and as many again
// (or 20 s) after the restart
const acksBeforeKill = 200;
const acksAfterRestart = 100;
const writesPerSession = 4;
// a request makes at most two DynamoDB calls (load, save), each bounded by the engine's client:
// 3 attempts x (1 s to connect + 3 s to answer), plus retry delays of at most 150 ms
const requestBoundMs = 2 * (3 * (1_000 + 3_000) + 150);

let ddb: LocalDynamoDB;
let dbPath = '';
let server: Server;

/** Express app whose routes answer only once the store acknowledged the write. */
function app(store: DynamoDBStore): express.Express {
  const web = express();
  web.set('env', 'test'); // failures are counted by the test, not logged
  web.use(express.json());
  web.use(
    session({
      store,
      secret: 'faults-secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
    }),
  );
  const bag = (req: Request) => req.session as unknown as Record<string, unknown>;
  // the pattern to follow when a write matters: answer after the store has it
  const saved = (req: Request) =>
    new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
  web.post('/login', async (req, res) => {
    bag(req).user = String(req.body.user);
    bag(req).n = 0;
    await saved(req);
    res.json({ user: bag(req).user, n: 0 });
  });
  web.post('/write/:n', async (req, res) => {
    if (bag(req).user === undefined) {
      res.status(409).json({ code: 'NO_SESSION' }); // would be a silent logout
      return;
    }
    bag(req).n = Number(req.params.n);
    await saved(req);
    res.json({ n: bag(req).n });
  });
  web.get('/read', (req, res) => {
    res.json({ user: bag(req).user ?? null, n: bag(req).n ?? null });
  });
  web.use((err: { status?: number; code?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (!res.headersSent) res.status(err.status ?? 500).json({ code: err.code ?? 'ERROR' });
  });
  return web;
}

interface Call {
  path: string;
  start: number;
  end: number;
  /** 0: no HTTP answer within the bound (a hang or a refused connection). */
  status: number;
  body: Record<string, unknown>;
}

interface Tracked {
  user: string;
  jar: CookieJar;
  /** Highest value the app acknowledged (200 after the save). */
  acked: number;
  /** Every value a request tried to write, acknowledged or not. */
  attempted: Set<number>;
}

const calls: Call[] = [];
let acks = 0; // acknowledged logins and writes
let reconnects = 0; // requests sent again after Express closed their keep-alive connection
const sessions: Tracked[] = [];
const violations: string[] = [];

/**
 * One request, timed. When the store fails as a response ends (express-session's end-of-request
 * save or touch), Express can no longer send the error and closes the connection after the
 * response; a request already sent on that keep-alive connection then fails without an answer,
 * unprocessed. It is sent again once, on a new connection, as browsers do; those are counted.
 */
async function call(
  base: string,
  path: string,
  jar: CookieJar,
  method = 'GET',
  body?: object,
): Promise<Call> {
  const start = Date.now();
  let status = 0;
  let parsed: Record<string, unknown> = {};
  for (let attempt = 1; attempt <= 2 && status === 0; attempt++) {
    try {
      const res = await fetch(base + path, {
        method,
        headers: { cookie: jar.header(), ...(body && { 'content-type': 'application/json' }) },
        ...(body && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(requestBoundMs + 5_000),
      });
      status = res.status;
      const sid = jar.cookies.get('connect.sid');
      for (const line of res.headers.getSetCookie()) {
        const value = line.split(';')[0]?.split('=')[1];
        if (sid !== undefined && value !== sid) violations.push(`${path}: a new session cookie (${status})`);
      }
      jar.store(res);
      parsed = (await res.json()) as Record<string, unknown>;
    } catch (err) {
      parsed = { error: String(err), cause: String((err as { cause?: unknown }).cause) };
      const closed = /other side closed|ECONNRESET|socket hang up/.test(String(parsed.cause));
      if (!closed) break; // a timeout is a hang: never retried
      reconnects++;
    }
  }
  const c = { path, start, end: Date.now(), status, body: parsed };
  if (status === 200 && method === 'POST') acks++;
  calls.push(c);
  return c;
}

/** One simulated user after another: log in, then write 1..4, reading back after each write. */
async function worker(base: string, w: number, stop: () => boolean): Promise<void> {
  for (let k = 0; k < 500 && !stop(); k++) {
    const jar = new CookieJar();
    const user = `u${w}-${k}`;
    const login = await call(base, '/login', jar, 'POST', { user });
    if (login.status !== 200) {
      await new Promise((r) => setTimeout(r, 100)); // a user trying again, not a hot loop
      continue; // nothing was acknowledged: nothing to check later
    }
    const tracked: Tracked = { user, jar, acked: 0, attempted: new Set([0]) };
    sessions.push(tracked);
    for (let n = 1; n <= writesPerSession && !stop(); n++) {
      tracked.attempted.add(n);
      const write = await call(base, `/write/${n}`, jar, 'POST');
      if (write.status === 200) tracked.acked = n;
      const read = await call(base, '/read', jar);
      if (read.status === 200) {
        const seen = Number(read.body.n);
        if (read.body.user !== user)
          violations.push(`read as ${String(read.body.user)}, not ${user}: an empty session`);
        else if (seen < tracked.acked || !tracked.attempted.has(seen))
          violations.push(`${user} read n=${seen}`);
      }
    }
  }
}

async function until(done: () => boolean, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

before(async () => {
  dbPath = mkdtempSync(join(tmpdir(), 'dynamodb-sessions-faults-'));
  ddb = await startDynamoDBLocal({ dbPath, port: await freePort() });
  const admin = new DynamoDBClient({ region, endpoint: ddb.endpoint, credentials });
  await createTable(admin, { tableName });
  admin.destroy();
});

after(async () => {
  server?.close();
  server?.closeAllConnections();
  await ddb?.stop();
  if (dbPath) rmSync(dbPath, { recursive: true, force: true });
});

test('SIGKILL of DynamoDB mid-load: no acknowledged write lost, failures are bounded 5xx, the app recovers by itself', async () => {
  const endpoint = ddb.endpoint;
  // no `client`: the engine makes its own with its bounded defaults
  const store = new DynamoDBStore({ tableName, clientConfig: { region, endpoint, credentials } });
  server = createServer(app(store));
  const base = await listen(server);

  const started = Date.now();
  let stopAt = started + 90_000; // moved earlier once DynamoDB Local is back
  const load = Promise.all(
    Array.from({ length: workers }, (_, w) => worker(base, w, () => Date.now() >= stopAt)),
  );

  await until(() => acks >= acksBeforeKill, 30_000);
  const killAt = Date.now();
  await ddb.kill();
  const killedAt = Date.now();
  await new Promise((r) => setTimeout(r, 1_000)); // let requests meet the outage
  ddb = await startDynamoDBLocal({ dbPath, port: ddb.port });
  const upAt = Date.now();
  assert.equal(ddb.endpoint, endpoint, 'same port');
  const acksAtRestart = acks;
  await until(() => acks >= acksAtRestart + acksAfterRestart, 20_000);
  stopAt = Date.now();
  await load;

  // every acknowledged write, read back through the same app and through a fresh client
  const fresh = new SessionEngine({
    tableName,
    clientConfig: { region, endpoint, credentials },
  });
  let lost = 0;
  for (const s of sessions) {
    const read = await call(base, '/read', s.jar);
    const raw = decodeURIComponent(s.jar.cookies.get('connect.sid') ?? '');
    const stored = await fresh.get(raw.slice(2, raw.lastIndexOf('.')));
    const n = Number(read.body.n);
    const ok =
      read.status === 200 &&
      read.body.user === s.user &&
      n >= s.acked &&
      s.attempted.has(n) &&
      stored?.user === s.user &&
      stored.n === n;
    if (!ok) lost++;
  }

  const writes = calls.filter((c) => c.path === '/login' || c.path.startsWith('/write/'));
  const acknowledged = writes.filter((c) => c.status === 200).length;
  const failed = calls.filter((c) => c.status !== 200 && c.start < stopAt);
  const duringOutage = calls.filter((c) => c.start >= killedAt && c.end <= upAt);
  const recovered = calls.find((c) => c.start >= upAt && c.status === 200);
  const slowest = Math.max(...calls.map((c) => c.end - c.start));
  const figures = {
    sessions: sessions.length,
    acknowledgedWrites: acknowledged,
    failedWrites: writes.length - acknowledged,
    lost,
    requestsDuringOutage: duringOutage.length,
    status5xxDuringOutage: duringOutage.filter((c) => c.status >= 500).length,
    outageMs: upAt - killAt,
    recoverMsAfterRestart: recovered ? recovered.end - upAt : null,
    slowestRequestMs: slowest,
    requestsSentAgainOnNewConnection: reconnects,
    totalMs: Date.now() - started,
  };
  console.log(`crash and restart: ${JSON.stringify(figures)}`);

  assert.ok(acknowledged >= 200, `a load of a few hundred writes (${acknowledged} acknowledged)`);
  assert.equal(lost, 0, 'every acknowledged write is readable after the restart');
  assert.deepEqual(violations, [], 'no empty session, no stale read, no new session cookie');
  assert.ok(duringOutage.length > 0, 'requests met the outage');
  assert.ok(
    duringOutage.every((c) => c.status >= 500 && c.status < 600),
    `every request during the outage got a 5xx: ${JSON.stringify(duringOutage.filter((c) => c.status < 500).slice(0, 3))}`,
  );
  assert.ok(
    failed.every((c) => c.status >= 500 && c.status < 600),
    'every failure reached the client as a 5xx, never a hang or a 4xx',
  );
  assert.ok(slowest < requestBoundMs, `slowest request ${slowest} ms, bound ${requestBoundMs} ms`);
  assert.ok(recovered, 'the same app served a request after the restart');
  assert.ok(
    calls.filter((c) => c.start >= upAt && c.path.startsWith('/write/') && c.status === 200).length > 0,
    'writes are acknowledged again after the restart',
  );
});
