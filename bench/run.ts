/**
 * `npm run bench`: what a session costs per request, in server CPU and in DynamoDB calls and
 * capacity units, for this package and the alternatives, on a DynamoDB Local started here.
 * Every store runs in its own server process and gets the same seeded request sequence, in
 * interleaved slices. Prints markdown, writes `bench/results/latest.json` and `chart.svg`.
 * Usage: tsx bench/run.ts [--help]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { freePort, startDynamoDBLocal } from '../dev/dynamodb-local.ts';
import { createTable } from '../src/table.ts';
import { ensureBuilt, measureColdStart } from './coldstart.ts';
import { runSlice, ServerProcess, type WindowStats } from './harness.ts';
import { type CatalogueEntry, help, type Options, parseOptions, selectStores } from './options.ts';
import { compare, summarize } from './profile.ts';
import { chartSvg, publish, type RunResult, renderMarkdown, type StoreResult } from './report.ts';
import { connection } from './servers/common.ts';
import { type Calibration, calibrate, Tally } from './tally.ts';
import { checkTargets } from './targets.ts';
import { expressCookie, type Step, seededId, sequence } from './workload.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const parsed = parseOptions(process.argv.slice(2));
if (!parsed) {
  console.log(help);
  process.exit(0);
}
const opts: Options = parsed;
const { selected, skipped } = selectStores(opts.stores);
if (selected.length === 0) throw new Error(`no store selected by --stores ${opts.stores.join(',')}`);
const writeShare = opts.writePercent / 100;

const t0 = performance.now();
const loadAtStart = loadavg()[0] ?? 0;
const elapsed = (): number => (performance.now() - t0) / 1000;
function progress(text: string, leftSec?: number): void {
  const left = leftSec === undefined ? '' : `, ~${Math.ceil(leftSec)} s left`;
  process.stderr.write(`[bench ${elapsed().toFixed(0).padStart(3)} s${left}] ${text}\n`);
}

/** A server in the measured rotation, with the sessions its sequence spans. */
interface Runner {
  entry: CatalogueEntry;
  server: ServerProcess;
  sessions: number;
  tally: Tally;
  /** Offset of its sequences: the scale runs get their own. */
  stream: number;
}

const cores = availableParallelism();

/**
 * Gives the servers a core of their own (they take turns on it, one slice at a time), and DynamoDB
 * Local and this process (the load generator) the others, as a server in production does not share
 * its core with its database: what the servers measure is then not slowed by the JVM's bursts of
 * compilation and garbage collection on the same core. `false` when there is one core, or no `taskset`.
 */
function pin(servers: ServerProcess[], local: { pid: number }): boolean {
  if (cores < 2) return false;
  const others = `1-${cores - 1}`;
  try {
    for (const s of servers) if (s.pid) execFileSync('taskset', ['-a', '-p', '-c', '0', String(s.pid)]);
    for (const pid of [local.pid, process.pid])
      execFileSync('taskset', ['-a', '-p', '-c', others, String(pid)]);
    return true;
  } catch (err) {
    progress(`processes not pinned to cores (${err instanceof Error ? err.message : String(err)})`);
    return false;
  }
}
let pinned = false;

/**
 * One measured slice of a store. Its server first answers an unmeasured lead-in: the servers take
 * turns on the machine's cores, and a server that has just had its turn has its code and data in
 * the CPU's caches, as one in steady traffic does; the first requests after another server's turn
 * pay for reloading them, the same absolute cost in every store, which would pull every ratio
 * towards 1.
 */
async function measure(r: Runner, steps: Step[], leadIn: Step[]): Promise<void> {
  if (leadIn.length) await runSlice(r.server, leadIn, opts.connections);
  await r.server.request({ type: 'start' });
  const client = await runSlice(r.server, steps, opts.connections);
  const stats = (await r.server.request({ type: 'stop' })) as unknown as WindowStats;
  r.tally.add(client, stats, steps.filter((s) => s.write).length);
}

// the servers load this package's stores from dist/, as users run them
ensureBuilt((text) => progress(text));

// DynamoDB Local and the servers start at the same time: a server makes no call before a request
const endpoint = `http://127.0.0.1:${await freePort()}`;
const starting = startDynamoDBLocal({ port: Number(new URL(endpoint).port) });
const servers: ServerProcess[] = [];
let stopping: Promise<void> | undefined;
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await (await starting).stop();
  })();
  return stopping;
}
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  progress(`starting DynamoDB Local and a server for each of ${selected.map((s) => s.id).join(', ')}`);
  const conn = connection({ endpoint });
  const base = {
    endpoint,
    sessionBytes: opts.sessionBytes,
    ...(opts.touchAfter !== undefined && { touchAfter: opts.touchAfter }),
  };
  const runners: Runner[] = [];
  const addRunner = (entry: CatalogueEntry, sessions: number, stream: number): Runner => {
    const suffix = stream === 0 ? '' : `@${sessions}`;
    const table = `bench_${entry.id.replace(/\W/g, '_')}${suffix ? '_scale' : ''}`;
    const [framework, store = ''] = entry.id.split('/') as [ServerProcess['config']['framework'], string];
    const server = new ServerProcess(entry.id + suffix, { ...base, framework, store, table });
    servers.push(server);
    const runner = { entry, server, sessions, tally: new Tally(), stream };
    runners.push(runner);
    return runner;
  };
  for (const entry of selected) addRunner(entry, opts.sessions, 0);
  const scaled =
    opts.scaleSessions > opts.sessions
      ? selected.filter((e) => e.id.startsWith('express/') && opts.scaleStores.includes(e.id.slice(8)))
      : [];
  const scaleRunners = scaled.map((entry) => addRunner(entry, opts.scaleSessions, 1));
  await starting;
  const admin = new DynamoDBClient(conn);
  for (const r of runners) await createTable(admin, { tableName: r.server.config.table });
  await Promise.all(servers.map((s) => s.started()));
  pinned = opts.pin && pin(servers, await starting);
  progress(`${servers.length} servers listening; logging ${opts.sessions} sessions in to each`);
  const seeding = scaleRunners.map(async (r) => {
    await r.server.request({ type: 'seed', from: 0, to: r.sessions });
    for (let i = 0; i < r.sessions; i++) r.server.jars.set(i, expressCookie(seededId(i)));
  });
  if (scaleRunners.length) {
    progress(`seeding ${opts.scaleSessions} sessions for ${scaled.map((e) => e.id).join(', ')}`);
  }
  await Promise.all([
    ...runners.filter((r) => r.stream === 0).map((r) => r.server.login(0, r.sessions, 4)),
    ...seeding,
  ]);
  // the capacity check, on an engine of this process
  const calibration: Calibration | undefined = selected.some((e) => e.kind === 'ours')
    ? await calibrate(conn, {
        sessions: 50,
        requests: 400,
        sessionBytes: opts.sessionBytes,
        writeShare,
        seed: opts.seed,
      })
    : undefined;

  const rps = new Map<Runner, number>();
  for (const r of runners) {
    if (opts.warmup === 0) break;
    progress(`warm-up ${r.server.name}`);
    const warm = sequence(opts.seed + 1, 10_000_000 * (r.stream + 1), opts.warmup, r.sessions, writeShare);
    const result = await runSlice(r.server, warm, opts.connections);
    rps.set(r, (result.requests / result.elapsedMs) * 1000);
    if (result.non2xx + result.errors > 0) {
      throw new Error(
        `${r.server.name}: ${result.non2xx} non-2xx and ${result.errors} errors in the warm-up`,
      );
    }
  }
  const slowest = Math.min(...rps.values(), 2_000);
  const perSlice =
    opts.requests ?? Math.max(100, Math.round(((opts.duration / opts.slices) * slowest) / 100) * 100);
  progress(
    `${opts.slices} slices of ${perSlice} requests per store (slowest warm-up: ${slowest.toFixed(0)} req/s)`,
  );

  // unmeasured rounds first: the JIT is still warming up after the warm-up above
  // `count` requests of a runner's sequence from `offset`; the scale runs' sequences lie apart
  const stepsOf = (r: Runner, offset: number, count: number): Step[] =>
    sequence(
      opts.seed + r.stream * 2,
      offset + (r.stream === 0 ? 0 : 20_000_000),
      count,
      r.sessions,
      writeShare,
    );
  const sliceOf = (k: number, r: Runner): Step[] =>
    stepsOf(r, (k < 0 ? 60_000_000 : 0) + Math.abs(k) * perSlice, perSlice);
  const leadInOf = (k: number, r: Runner): Step[] => stepsOf(r, 80_000_000 + k * opts.leadIn, opts.leadIn);
  for (let k = -opts.warmupSlices; k < 0; k++) {
    for (const r of runners) {
      progress(`unmeasured slice ${opts.warmupSlices + k + 1}/${opts.warmupSlices} ${r.server.name}`);
      await runSlice(r.server, sliceOf(k, r), opts.connections);
    }
  }
  const profiled = (opts.profile ?? '')
    .split(',')
    .filter(Boolean)
    .map((name) => {
      const r = runners.find((x) => x.server.name === name);
      if (!r) throw new Error(`--profile ${name}: no such server in this run`);
      return r;
    });
  for (const r of profiled) await r.server.request({ type: 'profile-start' });
  // a profile covers the lead-ins too
  const profiledRequests = (perSlice + opts.leadIn) * opts.slices;
  let roundSeconds = 0;
  for (let k = 0; k < opts.slices; k++) {
    const roundStart = performance.now();
    for (const r of runners) {
      const left = roundSeconds ? roundSeconds * (opts.slices - k) : undefined;
      progress(`slice ${k + 1}/${opts.slices} ${r.server.name}`, left);
      await measure(r, sliceOf(k, r), leadInOf(k, r));
    }
    roundSeconds = (performance.now() - roundStart) / 1000;
  }
  const profileSummaries: string[] = [];
  const profileFiles: { name: string; file: string }[] = [];
  for (const r of profiled) {
    mkdirSync(opts.out, { recursive: true });
    const file = join(opts.out, `${r.server.name.replace(/\W/g, '-')}.cpuprofile`);
    await r.server.request({ type: 'profile-stop', file });
    const summary = summarize(file, 25, profiledRequests);
    profileFiles.push({ name: r.server.name, file });
    profileSummaries.push(`### CPU profile of ${r.server.name} (measured slices)`, '', summary, '');
    progress(`CPU profile written to ${file}`);
  }

  // after the servers' work: the cold processes run alone, on every core
  await stopAll();
  if (pinned) execFileSync('taskset', ['-a', '-p', '-c', `0-${cores - 1}`, String(process.pid)]);
  const coldStart = opts.coldRuns > 0 ? measureColdStart(opts.coldRuns, (text) => progress(text)) : null;

  const result = (r: Runner): StoreResult => r.tally.result(r.entry, r.sessions, r.server.notes);
  const main = runners.filter((r) => r.stream === 0).map(result);
  const scale = scaleRunners.map(result);
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const run: RunResult = {
    date: new Date().toISOString(),
    machine: {
      nproc: cores,
      cpuModel,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverage: [loadAtStart, loadavg()[0] ?? 0].map((n) => Math.round(n * 10) / 10),
      pinned,
    },
    options: { ...opts, stores: selected.map((s) => s.id) },
    sliceRequests: perSlice,
    runSeconds: 0,
    main,
    scale,
    calibration: calibration ? { ...calibration } : null,
    coldStart,
    targets: [],
    notes: [...new Set([...main.flatMap((r) => r.notes), ...skipped])],
  };
  run.targets = checkTargets(run);
  run.runSeconds = Math.round(elapsed());
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(join(opts.out, 'latest.json'), `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(join(opts.out, 'chart.svg'), chartSvg(run));
  const markdown = renderMarkdown(run);
  const out = [markdown];
  const profileTable = profileFiles.length ? compare(profileFiles, profiledRequests) : undefined;
  if (profileTable) out.push('', '### CPU by part (profiled)', '', profileTable, '', ...profileSummaries);
  console.log(out.join('\n'));
  progress(`wrote ${join(opts.out, 'latest.json')} and chart.svg`);
  // a profiled run is slower: it publishes its profile table only
  if (opts.publish && profileTable) {
    publish('BENCHMARKS.md', 'profile', profileTable);
    progress('updated the profile table in BENCHMARKS.md');
  } else if (opts.publish) {
    publish('BENCHMARKS.md', 'results', markdown);
    copyFileSync(join(opts.out, 'chart.svg'), 'bench/chart.svg');
    progress('updated the results in BENCHMARKS.md and bench/chart.svg');
  }
} finally {
  await stopAll();
}
