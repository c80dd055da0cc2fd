/**
 * The parts of the benchmark runner that talk to servers: forking a server process, IPC requests,
 * logins, per-session cookie jars, and one autocannon slice of a request sequence.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import type { OperationCount } from './counter.ts';
import type { Message, ServerConfig } from './server.ts';
import type { Step } from './workload.ts';

/** A message without its id (given here). */
type Outgoing = Message extends infer M ? (M extends Message ? Omit<M, 'id'> : never) : never;

const serverFile = fileURLToPath(new URL('./server.ts', import.meta.url));

/** The cookies of every session of one server, by session index. */
export class CookieJars {
  private readonly jars = new Map<number, Map<string, string>>();
  private readonly headers = new Map<number, string>();

  header(s: number): string {
    return this.headers.get(s) ?? '';
  }

  /** Sets one cookie (`name=value`) of session `s`. */
  set(s: number, pair: string): void {
    const eq = pair.indexOf('=');
    let jar = this.jars.get(s);
    if (!jar) {
      jar = new Map();
      this.jars.set(s, jar);
    }
    jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    this.headers.set(s, [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
  }

  /** Takes the `Set-Cookie` lines of a response to session `s`. */
  update(s: number, setCookie: string | string[] | undefined): void {
    if (setCookie === undefined) return;
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie])
      this.set(s, line.split(';')[0] ?? '');
  }
}

/** What a server reports for a measured window. */
export interface WindowStats {
  cpuUs: number;
  wallMs: number;
  ops: Record<string, OperationCount>;
  /** This package's saves that found the session changed meanwhile (one more write each); 0 for others. */
  conflicts: number;
}

/** One server process: a framework with one store. */
export class ServerProcess {
  readonly jars = new CookieJars();
  port = 0;
  notes: string[] = [];
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  private readonly ready: Promise<void>;

  constructor(
    readonly name: string,
    readonly config: ServerConfig,
  ) {
    this.child = fork(serverFile, [name], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, BENCH_SERVER: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.ready = new Promise((resolve, reject) => {
      this.waiting.set(0, {
        resolve: (msg) => {
          this.port = Number(msg.port);
          this.notes = (msg.notes as string[] | undefined) ?? [];
          resolve();
        },
        reject,
      });
    });
    this.child.on('message', (msg: { id: number; ok: boolean; error?: string }) => {
      const w = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.ok) w?.resolve(msg as unknown as Record<string, unknown>);
      else w?.reject(new Error(`${name}: ${msg.error}`));
    });
    this.child.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`${name} exited with code ${code}`));
      this.waiting.clear();
    });
  }

  started(): Promise<void> {
    return this.ready;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Sends a message and waits for its reply. */
  request(msg: Outgoing): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ ...msg, id });
    });
  }

  /** Stops the process by its pid (closing the IPC channel makes it exit). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.disconnect();
    const force = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  }

  /** Logs sessions `from`..`to`-1 in (`POST /login?u=N`), `concurrency` at a time; keeps their cookies. */
  async login(from: number, to: number, concurrency: number): Promise<void> {
    let next = from;
    const worker = async (): Promise<void> => {
      while (next < to) {
        const u = next++;
        const res = await fetch(`http://127.0.0.1:${this.port}/login?u=${u}`, { method: 'POST' });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${this.name}: login ${u} answered ${res.status}`);
        const cookies = res.headers.getSetCookie();
        if (cookies.length === 0) throw new Error(`${this.name}: login ${u} set no cookie`);
        this.jars.update(u, cookies);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  }
}

/** What one slice of requests gave, seen from the client. */
export interface SliceResult {
  requests: number;
  elapsedMs: number;
  non2xx: number;
  errors: number;
  latenciesMs: number[];
}

/** Sends exactly `steps` (in order, `connections` at a time) with each session's cookies. */
export function runSlice(server: ServerProcess, steps: Step[], connections: number): Promise<SliceResult> {
  let cursor = 0;
  const latenciesMs: number[] = [];
  const started = performance.now();
  let last = started;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${server.port}`,
        connections: Math.min(connections, steps.length),
        amount: steps.length,
        timeout: 20,
        sampleInt: 20, // autocannon ends a run on its next sample tick
        requests: [
          {
            setupRequest: (req, context) => {
              const step = steps[cursor++] ?? steps[steps.length - 1];
              if (!step) throw new Error('empty request sequence');
              context.s = step.s;
              return {
                ...req,
                method: step.write ? 'POST' : 'GET',
                path: step.path,
                headers: { cookie: server.jars.header(step.s) },
              };
            },
            onResponse: (_status, _body, context, headers) => {
              const key = Object.keys(headers).find((h) => h.toLowerCase() === 'set-cookie');
              if (key) server.jars.update(Number(context.s), headers[key]);
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        if (cursor !== steps.length) {
          return reject(new Error(`${server.name}: ${cursor} requests sent, ${steps.length} planned`));
        }
        resolve({
          requests: result.requests.total,
          elapsedMs: last - started,
          non2xx: result.non2xx,
          errors: result.errors,
          latenciesMs,
        });
      },
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
      latenciesMs.push(ms);
      last = performance.now();
    });
  });
}
