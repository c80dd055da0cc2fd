/**
 * How the examples start and stop, without a browser: `npm run example` uses DynamoDB Local whatever
 * AWS settings the shell has, and stops with its DynamoDB Local on SIGTERM to npm; asking for AWS
 * without a region or credentials is one line. Run: npm run test:e2e
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { freePort } from '../../dev/dynamodb-local.ts';
import { assertClosed, exitOf, runToEnd, withoutAws } from './processes.ts';

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
