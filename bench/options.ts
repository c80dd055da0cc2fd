/** The benchmark's command-line options and the stores it knows. */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { StoreResult } from './report.ts';

export const help = `Usage: npx tsx bench/run.ts [options]
  --duration S        measured seconds per store, for the slowest store (default 24)
  --slices N          interleaved measured slices per store (default 8)
  --requests N        requests per slice (default: from --duration and the slowest warm-up)
  --connections N     concurrent connections (default 8)
  --sessions N        sessions logged in per store (default 200)
  --write-percent P   share of requests that change the session (default 5)
  --session-bytes B   JSON size of each session's data (default 2048)
  --touch-after S     passed to the stores that have it (default: theirs, 3600)
  --stores LIST       framework/store ids or framework names, comma-separated (default: all)
  --warmup N          warm-up requests per store (default 1000)
  --warmup-slices N   unmeasured round-robin slices before the measured ones (default 3)
  --lead-in N         unmeasured requests at the start of each measured slice (default 100)
  --no-pin            leave the processes where the OS puts them (default: the servers on core 0,
                      DynamoDB Local and the load generator on the others, when there are 2 or more)
  --scale-sessions N  stored sessions of the scale run (default 20000; 0 skips it)
  --scale-stores LIST express stores measured at that scale too (default ours)
  --seed N            request sequence seed (default 1)
  --profile IDS       CPU-profile these servers over the measured slices (e.g. express/ours,express/raw)
  --cold-runs N       cold processes of each kind for the start-up cost, from dist/ (default 15; 0 skips it)
  --out DIR           results folder (default bench/results)
  --publish           also write the results into BENCHMARKS.md and the chart to bench/chart.svg
                      (with --profile: only the profile table)`;

export interface Options {
  duration: number;
  slices: number;
  requests: number | undefined;
  connections: number;
  sessions: number;
  writePercent: number;
  sessionBytes: number;
  touchAfter: number | undefined;
  stores: string[];
  warmup: number;
  warmupSlices: number;
  leadIn: number;
  pin: boolean;
  scaleSessions: number;
  scaleStores: string[];
  seed: number;
  profile: string | undefined;
  coldRuns: number;
  out: string;
  publish: boolean;
}

function num(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || !Number.isFinite(n) || n < min) {
    throw new Error(`--${name} must be a number >= ${min}, got ${value}`);
  }
  return n;
}

/** Parses the command line; `undefined` when `--help` was asked for. */
export function parseOptions(args: string[]): Options | undefined {
  const { values: f } = parseArgs({
    args,
    options: {
      duration: { type: 'string', default: '24' },
      slices: { type: 'string', default: '8' },
      requests: { type: 'string' },
      connections: { type: 'string', default: '8' },
      sessions: { type: 'string', default: '200' },
      'write-percent': { type: 'string', default: '5' },
      'session-bytes': { type: 'string', default: '2048' },
      'touch-after': { type: 'string' },
      stores: { type: 'string', default: 'express,fastify,koa,hono,react-router' },
      warmup: { type: 'string', default: '1000' },
      'warmup-slices': { type: 'string', default: '3' },
      'lead-in': { type: 'string', default: '100' },
      'no-pin': { type: 'boolean', default: false },
      'scale-sessions': { type: 'string', default: '20000' },
      'scale-stores': { type: 'string', default: 'ours' },
      seed: { type: 'string', default: '1' },
      profile: { type: 'string' },
      'cold-runs': { type: 'string', default: '15' },
      out: { type: 'string', default: 'bench/results' },
      publish: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (f.help) return undefined;
  const list = (v: string | undefined): string[] => (v ?? '').split(',').filter(Boolean);
  return {
    duration: num('duration', f.duration, 0.5),
    slices: num('slices', f.slices, 1),
    requests: f.requests === undefined ? undefined : num('requests', f.requests, 10),
    connections: num('connections', f.connections, 1),
    sessions: num('sessions', f.sessions, 1),
    writePercent: num('write-percent', f['write-percent'], 0),
    sessionBytes: num('session-bytes', f['session-bytes'], 200),
    touchAfter: f['touch-after'] === undefined ? undefined : num('touch-after', f['touch-after'], 0),
    stores: list(f.stores),
    warmup: num('warmup', f.warmup, 0),
    warmupSlices: num('warmup-slices', f['warmup-slices'], 0),
    leadIn: num('lead-in', f['lead-in'], 0),
    pin: f['no-pin'] !== true,
    scaleSessions: num('scale-sessions', f['scale-sessions'], 0),
    scaleStores: list(f['scale-stores']),
    seed: num('seed', f.seed, 0),
    profile: f.profile,
    coldRuns: num('cold-runs', f['cold-runs'], 0),
    out: f.out ?? 'bench/results',
    publish: f.publish === true,
  };
}

/** A store the benchmark can run. */
export interface CatalogueEntry {
  id: string;
  kind: StoreResult['kind'];
  label: string;
  /** A file that must exist (an adapter). */
  needs?: string;
}

function versionOf(pkg: string): string {
  try {
    return (JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, 'utf8')) as { version: string })
      .version;
  } catch {
    return '?';
  }
}

/** Every store, in table order. */
export const catalogue: CatalogueEntry[] = [
  { id: 'express/ours', kind: 'ours', label: 'dynamodb-sessions, own client (direct path)' },
  {
    id: 'express/ours-client',
    kind: 'ours',
    label: 'dynamodb-sessions, plain client passed in (direct path)',
  },
  {
    id: 'express/ours-client-mw',
    kind: 'ours',
    label: 'dynamodb-sessions, client with middleware passed in (SDK path)',
  },
  {
    id: 'express/ours-client-sdk',
    kind: 'ours',
    label: "dynamodb-sessions, client with middleware passed in, transport: 'sdk' (the SDK's own JSON)",
  },
  {
    id: 'express/ours-plain-ids',
    kind: 'ours',
    label: 'dynamodb-sessions, own client, hashIds: false (what hashing ids costs)',
  },
  { id: 'express/raw', kind: 'floor', label: 'raw SDK floor' },
  {
    id: 'express/connect-dynamodb',
    kind: 'peer',
    label: `connect-dynamodb ${versionOf('connect-dynamodb')}`,
  },
  {
    id: 'express/pwrdrvr',
    kind: 'peer',
    label: `@pwrdrvr/dynamodb-session-store ${versionOf('@pwrdrvr/dynamodb-session-store')}`,
  },
  { id: 'express/memory', kind: 'baseline', label: 'MemoryStore (no database)' },
  {
    id: 'fastify/ours',
    kind: 'ours',
    label: 'dynamodb-sessions, own client (direct path)',
    needs: 'adapters/fastify.ts',
  },
  {
    id: 'fastify/ours-client',
    kind: 'ours',
    label: 'dynamodb-sessions, plain client passed in (direct path)',
    needs: 'adapters/fastify.ts',
  },
  {
    id: 'fastify/ours-client-mw',
    kind: 'ours',
    label: 'dynamodb-sessions, client with middleware passed in (SDK path)',
    needs: 'adapters/fastify.ts',
  },
  { id: 'fastify/raw', kind: 'floor', label: 'raw SDK floor' },
  { id: 'fastify/memory', kind: 'baseline', label: '@fastify/session MemoryStore (no database)' },
  {
    id: 'koa/ours',
    kind: 'ours',
    label: 'dynamodb-sessions, own client (direct path)',
    needs: 'adapters/koa.ts',
  },
  {
    id: 'koa/ours-client',
    kind: 'ours',
    label: 'dynamodb-sessions, plain client passed in (direct path)',
    needs: 'adapters/koa.ts',
  },
  {
    id: 'koa/ours-client-mw',
    kind: 'ours',
    label: 'dynamodb-sessions, client with middleware passed in (SDK path)',
    needs: 'adapters/koa.ts',
  },
  { id: 'koa/raw', kind: 'floor', label: 'raw SDK floor' },
  { id: 'koa/cookie', kind: 'baseline', label: 'koa-session cookie (no database)' },
  {
    id: 'hono/ours',
    kind: 'ours',
    label: 'dynamodb-sessions, own client (direct path)',
    needs: 'adapters/hono.ts',
  },
  {
    id: 'hono/ours-client',
    kind: 'ours',
    label: 'dynamodb-sessions, plain client passed in (direct path)',
    needs: 'adapters/hono.ts',
  },
  {
    id: 'hono/ours-client-mw',
    kind: 'ours',
    label: 'dynamodb-sessions, client with middleware passed in (SDK path)',
    needs: 'adapters/hono.ts',
  },
  { id: 'hono/raw', kind: 'floor', label: 'raw SDK floor' },
  { id: 'hono/memory', kind: 'baseline', label: 'hono-sessions MemoryStore (no database)' },
  {
    id: 'react-router/ours',
    kind: 'ours',
    label: 'dynamodb-sessions, own client (direct path)',
    needs: 'adapters/react-router.ts',
  },
  {
    id: 'react-router/ours-client',
    kind: 'ours',
    label: 'dynamodb-sessions, plain client passed in (direct path)',
    needs: 'adapters/react-router.ts',
  },
  {
    id: 'react-router/ours-client-mw',
    kind: 'ours',
    label: 'dynamodb-sessions, client with middleware passed in (SDK path)',
    needs: 'adapters/react-router.ts',
  },
  { id: 'react-router/raw', kind: 'floor', label: 'raw SDK floor' },
  { id: 'react-router/memory', kind: 'baseline', label: 'createMemorySessionStorage (no database)' },
];

/** The stores `--stores` selects whose adapter exists, and notes on those left out. */
export function selectStores(wanted: string[]): { selected: CatalogueEntry[]; skipped: string[] } {
  const named = (c: CatalogueEntry): boolean =>
    wanted.includes(c.id) || wanted.includes(c.id.split('/')[0] ?? '');
  const present = (c: CatalogueEntry): boolean => !c.needs || existsSync(c.needs);
  return {
    selected: catalogue.filter((c) => named(c) && present(c)),
    skipped: catalogue
      .filter((c) => named(c) && !present(c))
      .map((c) => `${c.id} skipped: ${c.needs} is missing`),
  };
}
