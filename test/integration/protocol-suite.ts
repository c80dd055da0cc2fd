/**
 * The save protocol's guarantees, attacked through one framework's real app over HTTP with cookies:
 * two servers (two app instances, each with its own store) on one table, a request held between the
 * load and the save of its session while the session is changed, deleted, expired or destroyed
 * behind its back. Each framework's file runs this suite for its setups (cache on, off, evicted).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type CommandCounter,
  CookieJar,
  cookieExpiresAt,
  copyJar,
  countCommands,
  freshTable,
  localClient,
  localConfig,
  request,
} from './helpers.ts';
import {
  conflictsOf,
  type Framework,
  Gate,
  nowSec,
  type ProtocolApp,
  RawTable,
  REMEMBER_MS,
  type Seen,
  startApp,
} from './protocol-apps.ts';

/** How the in-process cache stands during the slow request. */
export type CacheMode = 'default' | 'off' | 'evicted';

export interface Setup {
  framework: Framework;
  cache: CacheMode;
  /** koa-session's `rolling`. */
  rolling?: boolean;
  /**
   * The stores make their own clients (the direct path) instead of being given a client with a
   * middleware of the app's (the SDK path: `send`, through that middleware, with the lean JSON).
   */
  ownClient?: boolean;
}

const cacheSizes: Record<CacheMode, number | undefined> = { default: undefined, off: 0, evicted: 1 };

export function label(setup: Setup): string {
  const cache = { default: 'cache default', off: 'cacheSize 0', evicted: 'cache evicted meanwhile' }[
    setup.cache
  ];
  const rolling = setup.rolling === undefined ? '' : `, rolling ${setup.rolling}`;
  const path = setup.ownClient ? ', own client' : ', client with middleware passed in';
  return `${setup.framework} (${cache}${rolling}${path})`;
}

type Kind = 'data change' | 'cookie-only change' | 'unchanged request';
type Fate = 'deleted' | 'expired' | 'logged out';

/** The slow request of each kind. */
const slowPath: Record<Kind, (gate: string) => string> = {
  'data change': (g) => `/set?key=late&value=slow&gate=${g}`,
  'cookie-only change': (g) => `/remember?gate=${g}`,
  'unchanged request': (g) => `/read?gate=${g}`,
};

const fateTitle: Record<Fate, string> = {
  deleted: 'deleted meanwhile (DeleteItem)',
  expired: 'expired meanwhile, before TTL removed it',
  'logged out': 'logged out on the other server meanwhile',
};

/**
 * Runs the attack matrix on two servers of one setup. The servers use `touchAfter: 0`, so that an
 * unchanged request really sends its expiry-only write (inside the default 3600 s window it would send
 * nothing, and the attacks on the touch would pass without testing it).
 */
export function protocolSuite(setup: Setup): void {
  describe(label(setup), () => {
    const apps: ProtocolApp[] = [];
    let A: ProtocolApp;
    let B: ProtocolApp;
    let raw: RawTable;
    /** The client given to the stores, with a middleware of the app's (it counts their calls). */
    let appClient: DynamoDBClient;
    let seen: CommandCounter;

    /** Another server of this setup on the same table. */
    async function start(genid?: () => string): Promise<ProtocolApp> {
      const cacheSize = cacheSizes[setup.cache];
      const app = await startApp({
        framework: setup.framework,
        client: appClient,
        ...(setup.ownClient && { clientConfig: await localConfig() }),
        tableName: raw.tableName,
        engine: cacheSize === undefined ? { touchAfter: 0 } : { touchAfter: 0, cacheSize },
        ...(setup.rolling !== undefined && { rolling: setup.rolling }),
        ...(genid && { genid }),
      });
      apps.push(app);
      return app;
    }

    before(async () => {
      const client = await localClient();
      raw = new RawTable(client, await freshTable(client));
      appClient = await localClient();
      seen = countCommands(appClient);
      A = await start();
      B = await start();
    });
    after(async () => {
      await Promise.all(apps.map((app) => app.close()));
    });

    async function send(app: ProtocolApp, path: string, jar: CookieJar) {
      const method = path.startsWith('/read') ? 'GET' : 'POST';
      return request(app.base, path, jar, { method });
    }

    /** A request that must succeed; returns what it saw. */
    async function ok(app: ProtocolApp, path: string, jar: CookieJar): Promise<Seen> {
      const res = await send(app, path, jar);
      assert.equal(res.status, 200, `${path} on ${app.framework}: ${JSON.stringify(res.body)}`);
      return res.body as Seen;
    }

    /** A new browser logged in on server A; returns its session id. */
    async function login(jar: CookieJar, name = 'ada'): Promise<string> {
      const seen = await ok(A, `/login?name=${name}`, jar);
      assert.ok(seen.id, 'the login has a session id');
      assert.ok(await raw.item(seen.id), 'the login is stored');
      return seen.id;
    }

    /** With `cache: 'evicted'`, another browser's session pushes this one out of `app`'s cache (cacheSize 1). */
    async function evictOn(app: ProtocolApp): Promise<void> {
      if (setup.cache !== 'evicted') return;
      const other = new CookieJar();
      await ok(app, '/login?name=other', other);
      await ok(app, '/read', other);
    }

    /**
     * Sends `path` (which names the gate) to `app` with a copy of `jar`, holds it once its session is
     * loaded, runs `meanwhile`, evicts the session from `app`'s cache when the setup says so, then lets
     * the held request save. Returns the held request's answer.
     */
    async function held(
      app: ProtocolApp,
      path: (gate: string) => string,
      jar: CookieJar,
      meanwhile: () => Promise<unknown>,
    ) {
      const gate = new Gate();
      const slow = send(app, path(gate.name), copyJar(jar));
      slow.catch(() => {}); // awaited below; a failure meanwhile must not leave it unhandled
      const ended = slow.then((res) => {
        throw new Error(`the held request ended before its gate: ${res.status} ${JSON.stringify(res.body)}`);
      });
      ended.catch(() => {});
      try {
        await Promise.race([gate.arrived(), ended]);
        await meanwhile();
        await evictOn(app);
      } finally {
        gate.release();
      }
      return slow;
    }

    /** What a browser holding a copy of `jar` sees next, on either server. */
    async function nextSeen(jar: CookieJar): Promise<Seen[]> {
      return [await ok(A, '/read', copyJar(jar)), await ok(B, '/read', copyJar(jar))];
    }

    test('a slow unchanged request never writes its stale copy over a concurrent change', async () => {
      const jar = new CookieJar();
      const id = await login(jar);
      const slow = await held(A, slowPath['unchanged request'], jar, () =>
        ok(B, '/set?key=b&value=kept', jar),
      );
      assert.equal(slow.status, 200);
      assert.equal(await raw.stored(id, 'b'), 'kept', 'the concurrent change is in the table');
      for (const seen of await nextSeen(jar)) assert.equal(seen.data.b, 'kept');
    });

    for (const fate of ['deleted', 'expired', 'logged out'] as const) {
      for (const kind of ['data change', 'cookie-only change', 'unchanged request'] as const) {
        test(`a slow ${kind} never brings back a session ${fateTitle[fate]}`, async () => {
          const jar = new CookieJar();
          const id = await login(jar);
          let keysThen: string[] | undefined;
          const slow = await held(A, slowPath[kind], jar, async () => {
            if (fate === 'deleted') await raw.delete(id);
            else if (fate === 'expired') await raw.setExpiry(id, nowSec() - 60);
            else await ok(B, '/logout', copyJar(jar));
            keysThen = await raw.dataKeys(id);
          });
          assert.ok(
            slow.status < 500,
            `the held request answered ${slow.status}: ${JSON.stringify(slow.body)}`,
          );
          const item = await raw.item(id);
          if (fate === 'deleted') assert.equal(item, undefined, 'no item under the deleted id');
          else if (fate === 'logged out') {
            assert.ok(item?.destroyed, 'the item is still the tombstone');
            assert.equal(item?.sess, undefined, 'the tombstone holds no data');
          } else if (item !== undefined) {
            // (DynamoDB Local runs TTL too: the expired item may also be gone by now, which is fine)
            assert.ok(Number(item.expires?.N) <= nowSec(), `the expiry stays past: ${item.expires?.N}`);
            assert.deepEqual(await raw.dataKeys(id), keysThen, 'the expired data was not rewritten');
          }
          for (const seen of await nextSeen(jar)) {
            assert.equal(seen.data.user, undefined, 'the next request finds no session');
            assert.notEqual(seen.id, id);
          }
        });
      }
    }

    test('a slow request setting its own key keeps the key another server wrote meanwhile (one conflict merged)', async () => {
      const jar = new CookieJar();
      const id = await login(jar);
      const conflictsBefore = conflictsOf(A) ?? 0;
      const slow = await held(
        A,
        (g) => `/set?key=a&value=mine&gate=${g}`,
        jar,
        () => ok(B, '/set?key=b&value=theirs', jar),
      );
      assert.equal(slow.status, 200);
      assert.equal(await raw.stored(id, 'a'), 'mine');
      assert.equal(await raw.stored(id, 'b'), 'theirs', "the other server's key survives");
      for (const seen of await nextSeen(jar))
        assert.deepEqual([seen.data.a, seen.data.b], ['mine', 'theirs']);
      const conflicts = conflictsOf(A);
      assert.equal(
        conflicts === undefined ? undefined : conflicts - conflictsBefore,
        1,
        'stats().conflicts counts the one conflict this save merged',
      );
    });

    test('a slow request deleting a key keeps the key another server wrote meanwhile', async () => {
      const jar = new CookieJar();
      const id = await login(jar);
      await ok(A, '/set?key=d&value=doomed', jar);
      const slow = await held(
        A,
        (g) => `/unset?key=d&gate=${g}`,
        jar,
        () => ok(B, '/set?key=b&value=theirs', jar),
      );
      assert.equal(slow.status, 200);
      assert.equal(await raw.stored(id, 'd'), undefined, 'the deleted key stays deleted');
      assert.equal(await raw.stored(id, 'b'), 'theirs');
      for (const seen of await nextSeen(jar))
        assert.deepEqual([seen.data.d, seen.data.b], [undefined, 'theirs']);
    });

    test('a key another server deleted meanwhile is not brought back by a slow request setting another key', async () => {
      const jar = new CookieJar();
      const id = await login(jar);
      await ok(A, '/set?key=c&value=old', jar);
      const slow = await held(
        A,
        (g) => `/set?key=a&value=mine&gate=${g}`,
        jar,
        () => ok(B, '/unset?key=c', jar),
      );
      assert.equal(slow.status, 200);
      assert.equal(await raw.stored(id, 'a'), 'mine');
      assert.equal(await raw.stored(id, 'c'), undefined, 'the concurrent delete is kept');
      for (const seen of await nextSeen(jar))
        assert.deepEqual([seen.data.a, seen.data.c], ['mine', undefined]);
    });

    test('two requests change the same key: the later write wins', async () => {
      const jar = new CookieJar();
      const id = await login(jar);
      await ok(A, '/set?key=x&value=first', jar);
      // A loads first and writes last; B writes in between
      const slow = await held(
        A,
        (g) => `/set?key=x&value=A&gate=${g}`,
        jar,
        () => ok(B, '/set?key=x&value=B', jar),
      );
      assert.equal(slow.status, 200);
      assert.equal(await raw.stored(id, 'x'), 'A');
      for (const seen of await nextSeen(jar)) assert.equal(seen.data.x, 'A');
    });

    test('a cookie-only change (remember me) is stored: the item, the next request and the cookie say 30 days', async () => {
      const jar = new CookieJar();
      const id = await login(jar);
      const remembered = await send(A, '/remember', jar);
      assert.equal(remembered.status, 200);
      const near = (actualMs: number | null | undefined, what: string) =>
        assert.ok(
          typeof actualMs === 'number' && Math.abs(actualMs - (Date.now() + REMEMBER_MS)) <= 120_000,
          `${what}: ${actualMs === null || actualMs === undefined ? actualMs : new Date(actualMs).toISOString()}, expected about now + 30 days`,
        );
      near(((await raw.expiry(id)) ?? 0) * 1000, 'the item expiry after remember me');
      // express-session sends no cookie for an unmodified session unless `rolling`; the others do
      const remCookie = cookieExpiresAt(remembered.res, A.cookieName);
      if (A.framework === 'express') assert.equal(remCookie, undefined);
      else near(remCookie, 'the Set-Cookie of remember me');

      const tab = copyJar(jar);
      const next = await send(B, '/read', tab);
      assert.equal(next.status, 200);
      const seen = next.body as Seen;
      assert.equal(seen.data.user, 'ada');
      assert.ok(
        Math.abs((seen.maxAgeMs ?? 0) - REMEMBER_MS) <= 5_000,
        `the next request sees maxAge ${seen.maxAgeMs}, expected 30 days`,
      );
      const nextCookie = cookieExpiresAt(next.res, B.cookieName);
      if (nextCookie !== undefined) near(nextCookie, 'the Set-Cookie of the next request');
      near(((await raw.expiry(id)) ?? 0) * 1000, 'the item expiry after the next request');

      const changed = await send(A, '/set?key=after&value=1', tab);
      assert.equal(changed.status, 200);
      near(cookieExpiresAt(changed.res, A.cookieName), 'the Set-Cookie of the next change');
      near(((await raw.expiry(id)) ?? 0) * 1000, 'the item expiry after the next change');
    });

    test('an unchanged request for a session deleted before it arrived leaves no item (a touch never creates)', async () => {
      const jar = new CookieJar();
      const id = await login(jar);
      await ok(A, '/read', copyJar(jar)); // both servers have seen the session
      await ok(B, '/read', copyJar(jar));
      await raw.delete(id);
      for (const app of [A, B]) {
        const seen = await ok(app, '/read', copyJar(jar));
        assert.equal(seen.data.user, undefined);
      }
      assert.equal(await raw.item(id), undefined);
    });

    test('a new session never overwrites a live session that has its id (an id generator that repeats)', async () => {
      const fixed = `fixed-${Math.random().toString(36).slice(2)}`;
      const repeating = await start(() => fixed);
      const first = new CookieJar();
      assert.equal((await ok(repeating, '/login?name=first', first)).id, fixed);
      // a second browser gets the same id for its new session; its save must not replace the first,
      // and fails loudly rather than leave that browser holding the first user's cookie
      const second = await send(repeating, '/login?name=second', new CookieJar());
      // express-session saves after the answer is written: there the error can only reach the log
      if (repeating.framework !== 'express')
        assert.ok(second.status >= 500, `the colliding login answered ${second.status}`);
      assert.equal(await raw.stored(fixed, 'user'), 'first');
      assert.equal((await ok(repeating, '/read', copyJar(first))).data.user, 'first');
    });

    test('20 concurrent requests over two servers, each setting its own key, keep all 20 keys', async () => {
      const jar = new CookieJar();
      const id = await login(jar);
      const before = [conflictsOf(A), conflictsOf(B)];
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => send(i % 2 ? B : A, `/set?key=k${i}&value=${i}`, copyJar(jar))),
      );
      const seen = await ok(A, '/read', copyJar(jar));
      const wanted = Array.from({ length: 20 }, (_, i) => `k${i}`);
      const kept = wanted.filter((k, i) => seen.data[k] === String(i));
      const after = [conflictsOf(A), conflictsOf(B)];
      const merged = after.every((n) => n !== undefined)
        ? String(after.reduce<number>((sum, n, i) => sum + (n ?? 0) - (before[i] ?? 0), 0))
        : 'not counted';
      console.log(`# ${label(setup)}: kept ${kept.length} of 20 keys, conflicts merged ${merged}`);
      assert.deepEqual(
        answers.map((a) => a.status),
        Array(20).fill(200),
      );
      const storedKeys = (await raw.dataKeys(id)) ?? [];
      assert.deepEqual(
        wanted.filter((k) => !storedKeys.includes(k)),
        [],
        'no key is missing from the table',
      );
      assert.equal(kept.length, 20, `lost: ${wanted.filter((k) => !kept.includes(k)).join(' ')}`);
    });

    test('a slow request setting one key races a fast request on the other server setting another: both survive', async () => {
      const lost: string[] = [];
      for (let round = 1; round <= 4; round++) {
        const jar = new CookieJar();
        const id = await login(jar, `racer${round}`);
        const [slowApp, fastApp] = round % 2 ? [A, B] : [B, A];
        const gate = new Gate();
        // no order imposed: the fast request may load before or after the slow one
        const slow = send(slowApp, `/set?key=a&value=slow&gate=${gate.name}`, copyJar(jar));
        const fast = send(fastApp, '/set?key=b&value=fast', copyJar(jar));
        slow.catch(() => {});
        try {
          await Promise.all([gate.arrived(), fast]);
          await evictOn(slowApp);
        } finally {
          gate.release();
        }
        assert.deepEqual([(await slow).status, (await fast).status], [200, 200]);
        const views: [string, Record<string, unknown>][] = [
          ['table', { a: await raw.stored(id, 'a'), b: await raw.stored(id, 'b') }],
          ...(await nextSeen(jar)).map((s, i): [string, Record<string, unknown>] => [
            `server ${'AB'[i]}`,
            s.data,
          ]),
        ];
        for (const [where, data] of views)
          if (data.a !== 'slow' || data.b !== 'fast')
            lost.push(`round ${round}, ${where}: a=${String(data.a)} b=${String(data.b)}`);
      }
      assert.deepEqual(lost, [], 'both keys survive every round');
    });

    // last of the suite: node:test runs a suite's tests in order
    if (!setup.ownClient) {
      test("every call of the stores went through the client's middleware (the SDK path)", () => {
        const calls = apps.reduce((n, app) => n + app.stats().total.calls, 0);
        assert.ok(calls > 100, `${calls} calls`);
        assert.equal(seen.of(...Object.keys(seen.counts)), calls);
      });
    }
  });
}
