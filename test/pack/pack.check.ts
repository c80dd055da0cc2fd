/**
 * The published package, as users get it: `npm pack`, installed into a folder outside the repository
 * beside Express 5, Fastify 5, Koa 3, Hono 4 with hono-sessions 0.8, and React Router (8, or 7 on a
 * Node.js older than 22.22) (test/pack/outside.ts), used by outside apps through the package's name
 * only (CommonJS for Express, ESM for Fastify, Koa and React Router, both for Hono), which must keep a
 * session across requests with cookies. The tarball is packed from a tree without `dist/`, as a fresh
 * clone is: `prepack` must build it. The README's own apps: readme.check.ts. Run: npm run test:pack.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from '../../dev/dynamodb-local.ts';
import { CookieJar, request } from '../integration/helpers.ts';
import { expressApp, fastifyApp, honoApp, honoCommonJsApp, koaApp, reactRouterApp } from './apps.ts';
import { localDynamoDB, outside } from './outside.ts';
import { root } from './readme.ts';

const { packed, appsFolder: dir } = outside();

async function run(file: string, source: string): Promise<void> {
  writeFileSync(join(dir, file), source);
  const port = await freePort();
  const child = spawn(process.execPath, [file], {
    cwd: dir,
    env: {
      ...process.env,
      PORT: String(port),
      ...(await localDynamoDB()),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((ready, fail) => {
      const timer = setTimeout(() => fail(new Error(`${file} did not start`)), 60_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('LISTENING')) {
          clearTimeout(timer);
          ready();
        }
      });
      child.once('exit', (code) => fail(new Error(`${file} exited with ${code}`)));
    });
    const jar = new CookieJar();
    const base = `http://127.0.0.1:${port}`;
    const counts: unknown[] = [];
    for (let i = 0; i < 3; i++) counts.push((await request(base, '/count', jar)).body);
    assert.deepEqual(counts, [{ n: 1 }, { n: 2 }, { n: 3 }], 'the session survives across requests');
    assert.deepEqual(
      (await request(base, '/count', new CookieJar())).body,
      { n: 1 },
      'another browser starts fresh',
    );
  } finally {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  }
}

describe('the packed tarball', () => {
  test('is built by prepack from a tree without dist/, and ships the library, subpaths and CLI', () => {
    const subpaths = ['index', 'express', 'fastify', 'koa', 'react-router', 'hono'];
    const kinds = ['.js', '.cjs', '.d.ts', '.d.cts'];
    for (const file of [...subpaths.flatMap((name) => kinds.map((kind) => name + kind)), 'cli.js']) {
      assert.ok(packed.includes(`package/dist/${file}`), `dist/${file} is in the tarball`);
    }
  });

  test('its type declarations show no @internal member', () => {
    const declarations = readdirSync(join(root, 'dist')).filter((f) => /\.d\.c?ts$/.test(f));
    assert.ok(declarations.length >= 12);
    for (const file of declarations) {
      const text = readFileSync(join(root, 'dist', file), 'utf8');
      assert.ok(!text.includes('@internal'), `${file} shows an @internal member`);
    }
  });

  test('needs no @aws-sdk/lib-dynamodb: it is not a dependency and the outside apps run without it', () => {
    const pkg = JSON.parse(
      readFileSync(join(dir, 'node_modules', 'dynamodb-sessions', 'package.json'), 'utf8'),
    );
    assert.equal(pkg.dependencies['@aws-sdk/lib-dynamodb'], undefined);
    assert.ok(!readdirSync(join(dir, 'node_modules', '@aws-sdk')).includes('lib-dynamodb'));
  });
});

describe('the packed tarball in outside apps', () => {
  test('an Express 5 app (CommonJS) keeps its session', () => run('express-app.cjs', expressApp));
  test('a Fastify 5 app (ESM) registers the plugin and keeps its session', () =>
    run('fastify-app.mjs', fastifyApp));
  test('a Koa 3 app (ESM) keeps its session', () => run('koa-app.mjs', koaApp));
  test('a Hono 4 app with hono-sessions (ESM) keeps its session', () => run('hono-app.mjs', honoApp));
  test('a Hono 4 app with hono-sessions (CommonJS) keeps its session', () =>
    run('hono-app.cjs', honoCommonJsApp));
  test("a React Router app (ESM) keeps its session through React Router's request handler", () =>
    run('react-router-app.mjs', reactRouterApp));
  test('dynamodb-sessions/react-router loads with require() beside the installed React Router', () => {
    // React Router 7 ships CommonJS; 8 is ESM only, loaded by require() on every Node.js it supports
    const script = `
      const { createDynamoDBSessionStorage } = require('dynamodb-sessions/react-router');
      const storage = createDynamoDBSessionStorage({ clientConfig: { region: 'us-east-1' } });
      storage.close();
      console.log(typeof storage.getSession, require('react-router/package.json').version);`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: dir }).toString().trim();
    const version = JSON.parse(readFileSync(join(dir, 'node_modules/react-router/package.json'), 'utf8'));
    assert.equal(out, `function ${version.version}`);
  });
});
