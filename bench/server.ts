/**
 * One benchmark server: a framework (express, fastify, koa, hono, react-router) with one session
 * store, in its own process, listening on 127.0.0.1. Routes: `POST /login?u=N` (creates session
 * N), `GET /account` (reads the session, changes nothing), `POST /cart?k=&q=&n=` (changes it).
 * The parent drives it over IPC: `start`/`stop` bracket a measured window (CPU time and DynamoDB
 * commands of this process over that window only), `seed` stores sessions directly.
 */
import { writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector/promises';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { CommandCounter } from './counter.ts';
import { connection } from './servers/common.ts';
import { seededId } from './workload.ts';

/** What the parent passes in `BENCH_SERVER` (JSON). */
export interface ServerConfig {
  framework: 'express' | 'fastify' | 'koa' | 'hono' | 'react-router';
  store: string;
  endpoint: string;
  table: string;
  sessionBytes: number;
  /** Passed to the stores that have it (this package's, @pwrdrvr's); their default otherwise. */
  touchAfter?: number;
  /** This package's store with `capacity: true`, to check the counted units against its own. */
  capacity?: boolean;
}

/** A framework app, as each `servers/*.ts` builds it. */
export interface BenchApp {
  /** Listens on 127.0.0.1, on a free port; returns the port. */
  listen: () => Promise<number>;
  /**
   * Has the store save sessions `first`, `first + 1`, ... under `sids`, as on a login (express
   * only); returns the PutItem inputs it made, to be batch-written (empty for a store without DynamoDB).
   */
  seed?: (sids: string[], first: number) => Promise<Record<string, unknown>[]>;
  /** Loading notes (a published package that needed a fix to load). */
  notes: string[];
  /** The engine's own counters, when the store is this package's. */
  engineStats?: () => unknown;
}

export type Message =
  | { id: number; type: 'start' | 'stop' | 'engine-stats' | 'profile-start' }
  | { id: number; type: 'profile-stop'; file: string }
  | { id: number; type: 'seed'; from: number; to: number };

const config = JSON.parse(process.env.BENCH_SERVER ?? '{}') as ServerConfig;
const counter = new CommandCounter();
const client = new DynamoDBClient(connection(config));
counter.attach(client);

// only this server's framework is loaded
const builders = {
  express: async () => (await import('./servers/express.ts')).expressApp,
  fastify: async () => (await import('./servers/fastify.ts')).fastifyApp,
  koa: async () => (await import('./servers/koa.ts')).koaApp,
  hono: async () => (await import('./servers/hono.ts')).honoApp,
  'react-router': async () => (await import('./servers/react-router.ts')).reactRouterApp,
};
const app = await (await builders[config.framework]())(config, client, counter);
const port = await app.listen();

let cpuStart = process.cpuUsage();
let wallStart = performance.now();
let profiler: InspectorSession | undefined;

async function seed(from: number, to: number): Promise<number> {
  if (!app.seed) throw new Error(`${config.framework} has no seeding`);
  const chunk = 1000;
  const items: WriteRequest[] = [];
  const started = performance.now();
  for (let i = from; i < to; i += chunk) {
    const sids = Array.from({ length: Math.min(chunk, to - i) }, (_, j) => seededId(i + j));
    counter.capture = []; // a document client's PutItem, captured in its middleware stack
    const inputs = [...(await app.seed(sids, i)), ...counter.capture];
    counter.capture = undefined;
    for (const input of inputs)
      items.push({ PutRequest: { Item: input.Item as Record<string, AttributeValue> } });
  }
  const captured = performance.now();
  const writer = new DynamoDBClient({ ...connection(config), cacheMiddleware: true }); // not counted
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      let requests = items.slice(next, next + 25);
      next += 25;
      for (let attempt = 0; requests.length > 0 && attempt < 10; attempt++) {
        const out = await writer.send(
          new BatchWriteItemCommand({ RequestItems: { [config.table]: requests } }),
        );
        requests = out.UnprocessedItems?.[config.table] ?? [];
      }
      if (requests.length > 0) throw new Error('BatchWriteItem left items unprocessed after 10 attempts');
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker));
  writer.destroy();
  const ms = (t: number): string => (t / 1000).toFixed(1);
  process.stderr.write(
    `${config.framework}/${config.store}: ${items.length} items made in ${ms(captured - started)} s, written in ${ms(performance.now() - captured)} s\n`,
  );
  return items.length;
}

let conflictsStart = 0;
/** This package's engine's conflicts so far (concurrent saves of one session); 0 for other stores. */
function conflictsNow(): number {
  const stats = app.engineStats?.() as { conflicts?: unknown } | undefined;
  return typeof stats?.conflicts === 'number' ? stats.conflicts : 0;
}

async function handle(msg: Message): Promise<unknown> {
  switch (msg.type) {
    case 'start':
      counter.reset();
      conflictsStart = conflictsNow();
      cpuStart = process.cpuUsage();
      wallStart = performance.now();
      return {};
    case 'stop': {
      const cpu = process.cpuUsage(cpuStart);
      return {
        cpuUs: cpu.user + cpu.system,
        wallMs: performance.now() - wallStart,
        ops: counter.counts(),
        conflicts: conflictsNow() - conflictsStart,
      };
    }
    case 'seed':
      return { items: await seed(msg.from, msg.to) };
    case 'engine-stats':
      return { stats: app.engineStats?.() ?? null, ops: counter.counts() };
    case 'profile-start':
      profiler = new InspectorSession();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
      await profiler.post('Profiler.start');
      return {};
    case 'profile-stop': {
      if (!profiler) throw new Error('the profiler was not started');
      const { profile } = await profiler.post('Profiler.stop');
      writeFileSync(msg.file, JSON.stringify(profile));
      profiler.disconnect();
      return {};
    }
  }
}

process.on('message', (msg: Message) => {
  handle(msg).then(
    (reply) => process.send?.({ id: msg.id, ok: true, ...(reply as object) }),
    (err: unknown) => process.send?.({ id: msg.id, ok: false, error: String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, port, notes: app.notes });
