/**
 * The published package, as users get it: `npm pack`, installed into a folder outside the repository
 * beside Express 5, Fastify 5 and Koa 3 (test/pack/outside.ts), used by three outside apps through the
 * package's name only (CommonJS for Express, ESM for Fastify and Koa), which must keep a session across
 * requests with cookies. The tarball is packed from a tree without `dist/`, as a fresh clone is:
 * `prepack` must build it. The README's own apps: readme.check.ts. Run: npm run test:pack.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { freePort } from '../../dev/dynamodb-local.ts';
import { CookieJar, request } from '../integration/helpers.ts';
import { expressApp, fastifyApp, koaApp } from './apps.ts';
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
    for (const file of [
      'index.js',
      'index.cjs',
      'index.d.ts',
      'express.cjs',
      'fastify.js',
      'koa.d.cts',
      'cli.js',
    ]) {
      assert.ok(packed.includes(`package/dist/${file}`), `dist/${file} is in the tarball`);
    }
  });

  test('its type declarations show no @internal member', () => {
    const declarations = readdirSync(join(root, 'dist')).filter((f) => /\.d\.c?ts$/.test(f));
    assert.ok(declarations.length >= 8);
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
});
