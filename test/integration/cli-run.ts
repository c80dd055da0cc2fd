/** Runs the `dynamodb-sessions` CLI as a child process, as a user would, in a chosen environment. */
import { execFile } from 'node:child_process';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The environment of a user with no AWS settings at all: no AWS_* variable (the runner sets one
 * that silences the SDK's Node version notice; the CLI must do that itself), no credential or config
 * file, no metadata service, and warnings shown.
 */
export const bare: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && k !== 'NODE_NO_WARNINGS'),
  ),
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws/credentials',
  AWS_CONFIG_FILE: '/nonexistent/aws/config',
  // never ask a metadata service for credentials: no traffic leaves 127.0.0.0/8
  AWS_EC2_METADATA_DISABLED: 'true',
};
/** ... with the keys DynamoDB Local is reached with in these tests. */
export const env = { ...bare, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

export function cli(...args: string[]): Promise<Run> {
  return cliIn(env, ...args);
}

export function cliIn(environment: NodeJS.ProcessEnv, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', ...args],
      { env: environment, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
