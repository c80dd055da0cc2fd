/**
 * `npm test`: the unit tier (pure, no Java, no DynamoDB), then the integration tier against one
 * DynamoDB Local (127.0.0.1 only, in memory) started for the whole run and stopped by its pid, also
 * when the tests fail, then the direct path's differential tests again on the oldest
 * `@aws-sdk/client-dynamodb` the package accepts, and the React Router adapter's tests again on
 * React Router 7.
 * Usage: tsx test/run.ts [--unit | --integration] [--core] [--oldest-sdk] [test files...]
 * `--core`: of the integration tier, only the core files (for older Node lines).
 * `--oldest-sdk`: the given files (or the differential ones) with every import of the SDK on the oldest.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { startDynamoDBLocal } from '../dev/dynamodb-local.ts';

const args = process.argv.slice(2);
const tiers = args.includes('--unit') ? ['unit'] : args.includes('--integration') ? ['integration'] : [];
const files = args.filter((a) => !a.startsWith('--'));
const coreOnly = args.includes('--core');
const oldestOnly = args.includes('--oldest-sdk');

/** The core of the integration tier: the engine, the direct path, the adapters and their options. */
const core = [
  'close',
  'data-forms',
  'deadline',
  'engine',
  'express',
  'fallback',
  'fast-transport',
  'fastify',
  'hono',
  'koa',
  'missing-table',
  'options',
  'sdk-versions',
  'users',
].map((name) => join('test', 'integration', `${name}.test.ts`));

/** The direct path against the client's own `send`: run a second time with the oldest SDK. */
const differential = [
  'test/unit/serde.test.ts',
  'test/unit/wire.test.ts',
  'test/integration/fast-transport.test.ts',
  'test/integration/fallback.test.ts',
];

/**
 * The React Router adapter's files run on React Router 8 (the `react-router` devDependency) with the
 * rest of their tier, then once more on React Router 7 (`react-router-7`; test/react-router-7.ts
 * redirects every import of `react-router`). React Router 8 needs Node.js 22.22: before it, 7 only.
 */
const isReactRouterFile = (f: string) =>
  /^test\/integration\/react-router[^/]*\.test\.ts$/.test(normalize(f));
const [nodeMajor = 0, nodeMinor = 0] = process.versions.node.split('.').map(Number);
const onReactRouter8 = nodeMajor > 22 || (nodeMajor === 22 && nodeMinor >= 22);

/** The test files of a tier; the crash suite kills and restarts its own DynamoDB Local (npm run test:faults). */
function tier(name: string): string[] {
  const folder = join('test', name);
  return readdirSync(folder)
    .filter((f) => f.endsWith('.test.ts') && f !== 'faults.test.ts')
    .sort()
    .map((f) => join(folder, f))
    .filter((f) => name !== 'integration' || !coreOnly || core.includes(f));
}

/**
 * Test files run side by side: each in its own process, on tables of its own. The integration
 * tests mostly wait on DynamoDB Local and on HTTP, so three at a time take about a third of the
 * time of one at a time even on two cores (Node's default there is one). `TEST_CONCURRENCY` sets it.
 */
const concurrency = Number(process.env.TEST_CONCURRENCY) || 3;

/** Runs the files in one `node --test`, each `imports` module loaded (`--import`) after tsx. */
function runNodeTest(selected: string[], env: NodeJS.ProcessEnv, imports: string[] = []): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        ...imports.flatMap((module) => ['--import', module]),
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

if (coreOnly) {
  const missing = core.filter((f) => !existsSync(f));
  if (missing.length) throw new Error(`core test files not found: ${missing.join(', ')}`);
}

const unit = oldestOnly
  ? []
  : files.length
    ? files.filter((f) => f.includes('/unit/'))
    : tiers.length === 0 || tiers.includes('unit')
      ? tier('unit')
      : [];
const selectedIntegration = oldestOnly
  ? []
  : files.length
    ? files.filter((f) => !f.includes('/unit/'))
    : tiers.length === 0 || tiers.includes('integration')
      ? tier('integration')
      : [];
const onReactRouter7 = selectedIntegration.filter(isReactRouterFile);
const integration = selectedIntegration.filter((f) => onReactRouter8 || !isReactRouterFile(f));

// the whole run (no files named, no tier chosen) includes the differential files on the oldest SDK
const onOldest = oldestOnly
  ? files.length
    ? files
    : differential
  : files.length || tiers.length
    ? []
    : differential;

const sdkVersion = (dir: string): string =>
  (JSON.parse(readFileSync(join('node_modules', dir, 'package.json'), 'utf8')) as { version: string })
    .version;
console.log(
  `== Node.js ${process.version}, @aws-sdk/client-dynamodb ${sdkVersion('@aws-sdk/client-dynamodb')} (oldest accepted: ${sdkVersion('client-dynamodb-oldest')})`,
);

let code = 0;
if (unit.length) {
  console.log(`== unit tier: ${unit.length} files, no DynamoDB`);
  code = await runNodeTest(unit, {});
}
if (integration.length || onOldest.length || onReactRouter7.length) {
  const ddb = await startDynamoDBLocal();
  try {
    const env = { DYNAMODB_ENDPOINT: ddb.endpoint };
    if (integration.length) {
      console.log(
        `== integration tier${coreOnly ? ' (core)' : ''}: ${integration.length} files on DynamoDB Local`,
      );
      code = (await runNodeTest(integration, env)) || code;
    }
    if (onOldest.length) {
      console.log(`== on the oldest SDK, ${sdkVersion('client-dynamodb-oldest')}: ${onOldest.join(' ')}`);
      code = (await runNodeTest(onOldest, env, ['./test/oldest-sdk.ts'])) || code;
    }
    if (onReactRouter7.length) {
      const only = onReactRouter8 ? '' : ' only (React Router 8 needs Node.js 22.22 or later)';
      console.log(`== on React Router ${sdkVersion('react-router-7')}${only}: ${onReactRouter7.join(' ')}`);
      code = (await runNodeTest(onReactRouter7, env, ['./test/react-router-7.ts'])) || code;
    }
  } finally {
    await ddb.stop();
  }
}
process.exit(code);
