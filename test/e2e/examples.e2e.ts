/**
 * Drives each example app in a real headless Chromium (Debian's package, no browser download):
 * log in through the page, reload, see the session, log out; and checks that the session item
 * appeared in DynamoDB Local and that its data left it. Run: npm run test:e2e
 */

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { type Browser, chromium } from 'playwright-core';
import { freePort } from '../../dev/dynamodb-local.ts';
import { endpoint, localClient } from '../integration/helpers.ts';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const examples = (process.env.E2E_EXAMPLES?.split(',') ?? ['express', 'fastify', 'koa']) as string[];
const client = await localClient();
const emptyHome = mkdtempSync(join(tmpdir(), 'examples-home-'));
let browser: Browser;

after(() => rmSync(emptyHome, { recursive: true, force: true }));

/** This process's environment without any AWS setting: the examples must not depend on the shell's. */
function withoutAws(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && name !== 'DYNAMODB_ENDPOINT'),
  );
  // no credentials file, no instance metadata: nothing here can reach AWS, even by mistake
  return {
    ...env,
    HOME: emptyHome,
    AWS_CONFIG_FILE: join(emptyHome, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(emptyHome, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

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

/** How a child process ended, within 20 s. */
function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} still runs after 20 s`)), 20_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** Asserts that nothing listens at `base` any more (within 15 s: a server may take a moment to go). */
async function assertClosed(base: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const refused = await fetch(base, { signal: AbortSignal.timeout(2000) }).then(
      () => false,
      () => true,
    );
    if (refused) return;
    assert.ok(Date.now() < deadline, `${base} still answers`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs a command to its end (at most 60 s); its exit code and its output. */
function runToEnd(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

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
    test(`${name}: log in, reload, see the session, log out`, async () => {
      const tableName = `e2e_${name}_${Date.now()}`;
      const { base, child } = await startExample(name, tableName);
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${base}/`);
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

describe('how the examples start and stop', () => {
  test('npm run example: an exported AWS_REGION still means DynamoDB Local; SIGTERM to npm stops the server and DynamoDB Local', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['run', 'example'], {
      env: { ...withoutAws(), PORT: String(port), AWS_REGION: 'eu-west-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    npm.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const base = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes(`${base}/`)) {
        assert.ok(Date.now() < deadline && npm.exitCode === null, `the demo did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const local = /DynamoDB Local at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      assert.ok(local, `the demo says it uses DynamoDB Local:\n${output}`);
      assert.equal((await fetch(`${base}/`)).status, 200);
      const exited = exitOf(npm);
      npm.kill('SIGTERM');
      await exited;
      await assertClosed(base);
      await assertClosed(local);
    } finally {
      npm.kill('SIGKILL');
    }
  });

  test('--aws without a region, or without credentials: one line, exit 1', async () => {
    const noRegion = await runToEnd(
      process.execPath,
      ['--import', 'tsx', 'examples/express/server.ts', '--aws'],
      {
        ...withoutAws(),
      },
    );
    assert.equal(noRegion.code, 1);
    assert.match(noRegion.stderr, /^--aws: no AWS region\. Set AWS_REGION .*\n$/);
    assert.doesNotMatch(noRegion.stdout, /DynamoDB Local/, 'nothing started');

    const noCredentials = await runToEnd(
      process.execPath,
      ['--import', 'tsx', 'examples/fastify/server.ts', '--aws'],
      { ...withoutAws(), AWS_REGION: 'eu-west-1' },
    );
    assert.equal(noCredentials.code, 1);
    assert.match(
      noCredentials.stderr,
      /^--aws: no AWS credentials \(CredentialsProviderError: .*\)\. Set AWS_PROFILE .*\n$/,
    );
  });

  test('an endpoint that is not on this machine needs a region like AWS: one line, exit 1', async () => {
    const result = await runToEnd(process.execPath, ['--import', 'tsx', 'examples/koa/server.ts'], {
      ...withoutAws(),
      AWS_ENDPOINT_URL_DYNAMODB: 'https://dynamodb.example.invalid',
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^AWS_ENDPOINT_URL_DYNAMODB=https:\/\/dynamodb\.example\.invalid: no AWS region\..*\n$/,
    );
  });

  test('the cross-account example without its settings: one line, exit 1', async () => {
    const result = await runToEnd(process.execPath, ['--import', 'tsx', 'examples/cross-account/server.ts'], {
      ...withoutAws(),
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^Set SESSIONS_ROLE_ARN .*AWS_REGION and SESSION_SECRET\.\n$/);
  });

  test('the cross-account example assumes its role at start: when STS cannot be reached, one line, exit 1', async () => {
    // STS on a closed port of this machine: the SDK reads AWS_ENDPOINT_URL_STS, as it does for DynamoDB
    const closed = `http://127.0.0.1:${await freePort()}`;
    const role = 'arn:aws:iam::222222222222:role/sessions-access';
    const result = await runToEnd(process.execPath, ['--import', 'tsx', 'examples/cross-account/server.ts'], {
      ...withoutAws(),
      SESSIONS_ROLE_ARN: role,
      AWS_REGION: 'eu-west-1',
      SESSION_SECRET: 'a secret',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_STS: closed,
      AWS_ENDPOINT_URL: closed,
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^Cannot assume ${role}: .*\\n$`));
  });
});
