/**
 * `npm test`: starts one DynamoDB Local (127.0.0.1 only, in memory) for the whole run, runs every
 * test file with node:test against it, and stops it by its pid, also when the tests fail.
 * Usage: tsx test/run.ts [test files...]
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDynamoDBLocal } from '../dev/dynamodb-local.ts';

const files = process.argv.slice(2);
const selected = files.length
  ? files
  : readdirSync('test')
      // the crash suite kills and restarts its own DynamoDB Local: it runs as npm run test:faults
      .filter((f) => f.endsWith('.test.ts') && f !== 'faults.test.ts')
      .sort()
      .map((f) => join('test', f));

const ddb = await startDynamoDBLocal();
let code = 1;
try {
  code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=120000', ...selected],
      {
        stdio: 'inherit',
        env: {
          ...process.env,
          DYNAMODB_ENDPOINT: ddb.endpoint,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
} finally {
  await ddb.stop();
}
process.exit(code);
