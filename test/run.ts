/**
 * `npm test`: the unit tier (pure, no Java, no DynamoDB), then the integration tier against one
 * DynamoDB Local (127.0.0.1 only, in memory) started for the whole run and stopped by its pid, also
 * when the tests fail.
 * Usage: tsx test/run.ts [--unit | --integration] [test files...]
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startDynamoDBLocal } from '../dev/dynamodb-local.ts';

const args = process.argv.slice(2);
const tiers = args.includes('--unit') ? ['unit'] : args.includes('--integration') ? ['integration'] : [];
const files = args.filter((a) => !a.startsWith('--'));

/** The test files of a tier; the crash suite kills and restarts its own DynamoDB Local (npm run test:faults). */
function tier(name: string): string[] {
  const folder = join('test', name);
  return readdirSync(folder)
    .filter((f) => f.endsWith('.test.ts') && f !== 'faults.test.ts')
    .sort()
    .map((f) => join(folder, f));
}

/**
 * Test files run side by side: each in its own process, on tables of its own. The integration
 * tests mostly wait on DynamoDB Local and on HTTP, so three at a time take about a third of the
 * time of one at a time even on two cores (Node's default there is one). `TEST_CONCURRENCY` sets it.
 */
const concurrency = Number(process.env.TEST_CONCURRENCY) || 3;

function runNodeTest(selected: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        '--test-timeout=600000',
        `--test-concurrency=${concurrency}`,
        ...selected,
      ],
      {
        stdio: 'inherit',
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      },
    );
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('exit', (exitCode, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(exitCode ?? (signal ? 1 : 0));
    });
  });
}

const unit = files.length
  ? files.filter((f) => f.includes('/unit/'))
  : tiers.length === 0 || tiers.includes('unit')
    ? tier('unit')
    : [];
const integration = files.length
  ? files.filter((f) => !f.includes('/unit/'))
  : tiers.length === 0 || tiers.includes('integration')
    ? tier('integration')
    : [];

let code = 0;
if (unit.length) {
  console.log(`== unit tier: ${unit.length} files, no DynamoDB`);
  code = await runNodeTest(unit, {});
}
if (integration.length) {
  console.log(`== integration tier: ${integration.length} files on DynamoDB Local`);
  const ddb = await startDynamoDBLocal();
  try {
    code = (await runNodeTest(integration, { DYNAMODB_ENDPOINT: ddb.endpoint })) || code;
  } finally {
    await ddb.stop();
  }
}
process.exit(code);
