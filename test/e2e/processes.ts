/** Starting and stopping the examples as processes, with an environment that cannot reach AWS. */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const emptyHome = mkdtempSync(join(tmpdir(), 'examples-home-'));
process.on('exit', () => rmSync(emptyHome, { recursive: true, force: true }));

/** This process's environment without any AWS setting: the examples must not depend on the shell's. */
export function withoutAws(): NodeJS.ProcessEnv {
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

/** How a child process ended, within 20 s. */
export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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
export async function assertClosed(base: string): Promise<void> {
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
export function runToEnd(
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
