/**
 * `npm run test:pack`: packs the package and installs it outside the repository (outside.ts), starts
 * one DynamoDB Local (127.0.0.1, in memory), runs the pack checks, then stops it and removes what it
 * installed. The checks build and type-check whole apps, which takes minutes on a busy machine: each
 * file gets 10 minutes here, where the integration tier gives a file 2.
 */
import { spawn } from 'node:child_process';
import { startDynamoDBLocal } from '../../dev/dynamodb-local.ts';
import { cleanUp, prepare } from './outside.ts';

console.log('== packing, and installing the tarball outside the repository');
const started = Date.now();
await prepare();
console.log(`   ready in ${Math.round((Date.now() - started) / 1000)} s`);

const checks = ['test/pack/pack.check.ts', 'test/pack/readme.check.ts'];
const ddb = await startDynamoDBLocal();
let code = 1;
try {
  code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=600000', ...checks],
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
  cleanUp();
}
process.exit(code);
