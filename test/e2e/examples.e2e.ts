/**
 * Drives each example app in a real headless Chromium (Debian's package, no browser download):
 * log in through the page, reload, see the session, log out; and checks that the session item
 * appeared in DynamoDB Local and that its data left it. Run: npm run test:e2e
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { type Browser, chromium } from 'playwright-core';
import { freePort } from '../../dev/dynamodb-local.ts';
import { endpoint, localClient } from '../integration/helpers.ts';
import { assertClosed, exitOf, withoutAws } from './processes.ts';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const examples = (process.env.E2E_EXAMPLES?.split(',') ?? [
  'express',
  'fastify',
  'koa',
  'hono',
  'react-router',
]) as string[];
const client = await localClient();
let browser: Browser;

async function startExample(name: string, tableName: string): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', `examples/${name}/server.ts`], {
    // only the endpoint, as docs/dynamodb-local.md says: on 127.0.0.1 any region and keys do
    env: {
      ...withoutAws(),
      PORT: String(port),
      AWS_ENDPOINT_URL_DYNAMODB: await endpoint(),
      TABLE_NAME: tableName,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} example did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} example exited with ${code}:\n${output}`)));
  });
  child.removeAllListeners('exit');
  return { base: `http://127.0.0.1:${port}`, child };
}

/** Items holding session data (a destroyed session's tombstone holds none). */
async function sessionItems(tableName: string): Promise<number> {
  // a test may scan its own small table; the store never does
  const out = await client.send(
    new ScanCommand({
      TableName: tableName,
      FilterExpression: 'attribute_exists(sess)',
      ConsistentRead: true,
    }),
  );
  return out.Count ?? 0;
}

/** Items of any kind, tombstones included. */
async function allItems(tableName: string): Promise<number> {
  const out = await client.send(
    new ScanCommand({ TableName: tableName, Select: 'COUNT', ConsistentRead: true }),
  );
  return out.Count ?? 0;
}

describe('the examples in a real browser', () => {
  before(async () => {
    assert.ok(
      existsSync(executablePath),
      `Chromium not found at ${executablePath} (apt-get install chromium)`,
    );
    browser = await chromium.launch({
      executablePath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
  });

  for (const name of examples) {
    test(`${name}: the login page alone stores nothing; log in, reload, see the session, log out`, async (t) => {
      const tableName = `e2e_${name}_${Date.now()}`;
      const { base, child } = await startExample(name, tableName);
      // a failed assertion must not leave the example running (after a clean exit this does nothing)
      t.after(() => child.kill('SIGKILL'));
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${base}/`);
        // a visitor who only views the login page (twice: with whatever cookie the first view set) costs no write
        await page.reload();
        assert.equal(await allItems(tableName), 0, 'nothing is stored before login');
        await page.fill('input[name="name"]', 'Ada');
        await Promise.all([page.waitForURL(`${base}/`), page.click('button[type="submit"]')]);
        assert.match((await page.textContent('#welcome')) ?? '', /Ada/);
        const firstVisits = Number(await page.textContent('#visits'));
        assert.equal(await sessionItems(tableName), 1, 'the session item is in DynamoDB');
        await page.reload();
        assert.match((await page.textContent('#welcome')) ?? '', /Ada/, 'the session survives a reload');
        assert.equal(Number(await page.textContent('#visits')), firstVisits + 1);
        await Promise.all([page.waitForURL(`${base}/`), page.click('#logout')]);
        assert.equal(await page.locator('#welcome').count(), 0, 'logged out');
        assert.ok(await page.locator('input[name="name"]').isVisible());
        assert.equal(await sessionItems(tableName), 0, 'the session data left DynamoDB');
      } finally {
        await context.close();
      }
      const exited = exitOf(child);
      child.kill('SIGTERM');
      assert.deepEqual(await exited, { code: 0, signal: null }, 'SIGTERM stops the example cleanly');
      await assertClosed(base);
    });
  }
});
