/**
 * The README's checked code blocks are their files, byte for byte, so that what CI type-checks and
 * runs (test/pack) is what users copy. The packed-tarball checks are in test/pack/pack.check.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { frameworkOf, installGroups, readme, root, snippets } from '../pack/readme.ts';

const text = readme();
const marked = snippets(text);

test('each checked README code block is its file, byte for byte', () => {
  assert.ok(
    marked.length >= 5,
    `expected the Express, Fastify, Koa, React Router and Hono apps, found ${marked.length}`,
  );
  for (const { path, block } of marked) {
    assert.ok(existsSync(join(root, path)), `${path} exists`);
    assert.equal(
      block,
      readFileSync(join(root, path), 'utf8'),
      `the README block marked ${path} is the file`,
    );
  }
});

test('every file of examples/readme is shown in the README, once', () => {
  const files = readdirSync(join(root, 'examples/readme'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `examples/readme/${f}`)
    .sort();
  assert.deepEqual(marked.map((s) => s.path).sort(), files);
});

test('the Install section names a framework group for each checked app, and the packages every app needs', () => {
  const { common, frameworks } = installGroups(text);
  assert.ok(common.includes('dynamodb-sessions'), `common packages: ${common.join(' ')}`);
  for (const { path } of marked) {
    const framework = frameworkOf(path);
    assert.ok(frameworks.get(framework)?.length, `an npm install line under "# ${framework}"`);
  }
  const all = [...common, ...[...frameworks.values()].flat()];
  assert.ok(!all.includes('@aws-sdk/lib-dynamodb'), '@aws-sdk/lib-dynamodb is not needed');
});
