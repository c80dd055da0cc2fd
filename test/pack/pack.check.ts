/**
 * The published package, as users get it: `npm pack`, installed into a fresh folder beside Express 5,
 * Fastify 5 and Koa 3, used by three outside apps through the package's name only (CommonJS for
 * Express, ESM for Fastify and Koa), which must keep a session across requests with cookies.
 * The tarball is packed from a tree without `dist/`, as a fresh clone is: `prepack` must build it.
 * Run: npm run test:pack.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../dev/dynamodb-local.ts';
import { CookieJar, endpoint, request } from '../integration/helpers.ts';
import { expressApp, fastifyApp, koaApp } from './apps.ts';

const root = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'dynamodb-sessions-outside-'));

let packed: string[] = [];

before(() => {
  // as in a fresh clone: nothing built
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root })
    .toString()
    .trim();
  const tarball = join(dir, out.split('\n').pop() ?? '');
  packed = execFileSync('tar', ['-tzf', tarball]).toString().trim().split('\n');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'outside-app', private: true }));
  const pinned = (name: string) =>
    `${name}@${JSON.parse(execFileSync('node', ['-p', `JSON.stringify(require('${name}/package.json').version)`], { cwd: root }).toString())}`;
  execFileSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      tarball,
      ...['@aws-sdk/client-dynamodb', 'express', 'express-session', 'fastify'].map(pinned),
      ...['@fastify/session', '@fastify/cookie', 'fastify-plugin', 'koa', 'koa-session'].map(pinned),
    ],
    { cwd: dir, stdio: 'inherit' },
  );
  assert.ok(readdirSync(join(dir, 'node_modules', 'dynamodb-sessions', 'dist')).includes('express.cjs'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(file: string, source: string): Promise<void> {
  writeFileSync(join(dir, file), source);
  const port = await freePort();
  const child = spawn(process.execPath, [file], {
    cwd: dir,
    env: {
      ...process.env,
      PORT: String(port),
      DYNAMODB_ENDPOINT: await endpoint(),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
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
