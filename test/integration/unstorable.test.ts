/**
 * A value JSON cannot hold (a BigInt, a cycle) put into a session, over real HTTP, in each framework,
 * each server in a process of its own (unstorable-app.ts): the value is refused with
 * `SessionDataError`, the stored session stays as it was, and the process keeps serving. The
 * frameworks hash the session with JSON before the store sees it (express-session when the response
 * ends, koa-session before it decides to save), where a throw would escape every handler.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { bodyOf, CookieJar, endpoint, freshTable, localClient } from './helpers.ts';

const client = await localClient();
let tableName = '';
const children: ChildProcess[] = [];

before(async () => {
  tableName = await freshTable(client);
});
after(() => {
  for (const child of children) if (child.exitCode === null) child.kill();
});

interface Server {
  base: string;
  child: ChildProcess;
  output: () => string;
}

/** Starts unstorable-app.ts for `framework` in a process of its own; resolves once it listens. */
async function serve(framework: string): Promise<Server> {
  const app = new URL('./unstorable-app.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', app, framework], {
    env: { ...process.env, DDB: await endpoint(), TABLE: tableName, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${framework} app did not start:\n${output}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      const url = /http:\/\/127\.0\.0\.1:\d+/.exec(chunk.toString())?.[0];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
    child.once('exit', (code) => reject(new Error(`${framework} app exited (${code}):\n${output}`)));
  });
  return { base, child, output: () => output };
}

/** A request with the jar's cookies, bounded: a response that never ends fails the test instead of hanging. */
async function send(server: Server, path: string, jar: CookieJar, method = 'GET') {
  const res = await fetch(server.base + path, {
    method,
    headers: { cookie: jar.header() },
    signal: AbortSignal.timeout(10_000),
  }).catch((err: unknown) => {
    throw new Error(
      `${method} ${path}: ${String(err)}; process exit code ${server.child.exitCode}\n${server.output()}`,
    );
  });
  jar.store(res);
  return { status: res.status, body: bodyOf(await res.text()), setCookie: res.headers.getSetCookie() };
}

const kinds = { bigint: 'session.n', cycle: 'session.tree.self', self: 'session.me' };

/**
 * What the browser gets when the route ends the way `how` says. express-session calls `set` after it
 * has written the headers and the body (minus the last byte) when the response ends: a refusal there
 * can only reach the app's error handler, and the browser gets the route's 200.
 */
const expected: Record<string, Record<string, number>> = {
  express: { end: 200, later: 200, save: 500 },
  fastify: { end: 500, save: 500 },
  koa: { end: 500, save: 500 },
};

for (const [framework, outcomes] of Object.entries(expected)) {
  describe(`${framework}: a value JSON cannot hold`, () => {
    let server: Server;
    before(async () => {
      server = await serve(framework);
    });

    for (const [how, status] of Object.entries(outcomes)) {
      test(`${how}: a BigInt, a cycle and a cycle through the session are refused, the stored session stays, the process serves on`, async () => {
        const jar = new CookieJar();
        assert.equal((await send(server, '/login', jar, 'POST')).status, 200);
        const cookie = jar.header();
        for (const kind of Object.keys(kinds)) {
          const res = await send(server, `/${kind}?how=${how}`, jar, 'POST');
          assert.equal(res.status, status, `${kind}: ${JSON.stringify(res.body)}`);
          if (framework === 'fastify')
            assert.equal((res.body as { code?: unknown }).code, 'ERR_SESSION_DATA');
          if (framework === 'express' && status === 500)
            assert.deepEqual(res.body, { code: 'ERR_SESSION_DATA' });
          assert.equal(jar.header(), cookie, `${kind}: the browser keeps its session cookie`);
          assert.equal(server.child.exitCode, null, `${kind}: the process is up`);
          const me = await send(server, '/me', jar);
          assert.deepEqual([me.status, me.body], [200, { user: 'ada', spoiled: false }], kind);
        }
        const errors = (await send(server, '/errors', new CookieJar())).body as {
          code: string;
          path: string;
        }[];
        for (const path of Object.values(kinds)) {
          assert.ok(
            // a cycle through the session is named where it closes: session.me, or session.me.me
            errors.some((e) => e.code === 'ERR_SESSION_DATA' && e.path.startsWith(path)),
            `the app saw SessionDataError at ${path}: ${JSON.stringify(errors)}`,
          );
        }
      });
    }

    test('a new session holding a BigInt is refused and gets no cookie; the process serves on', async () => {
      const jar = new CookieJar();
      const res = await send(server, '/bigint', jar, 'POST');
      assert.equal(res.status, outcomes.end);
      assert.deepEqual(res.setCookie, [], 'no cookie for a session that was not stored');
      assert.equal(server.child.exitCode, null);
      assert.equal((await send(server, '/login', jar, 'POST')).status, 200);
      assert.deepEqual((await send(server, '/me', jar)).body, { user: 'ada', spoiled: false });
    });
  });
}
