/**
 * Start-up cost, as a serverless function pays it (AWS Lambda bills its init): whole cold Node.js
 * processes that import this package's Express store from the built `dist/` and make one
 * (`bench/cold/ours.*`), against processes that import `@aws-sdk/client-dynamodb` and
 * `express-session` and make a client (`bench/cold/sdk.*`), as ESM and as CommonJS. The runs
 * alternate; each process reports its CPU time and its time since start when ready; medians.
 * Usage: tsx bench/coldstart.ts [--runs N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

/** The medians of one kind of process. */
export interface ColdProcess {
  /** ms from the process start until the store (or client) is made. */
  readyMs: number;
  /** CPU ms (user + system) until then. */
  cpuMs: number;
}

/** One module system's result. */
export interface ColdStartRow {
  modules: 'ESM' | 'CommonJS';
  baseline: ColdProcess;
  ours: ColdProcess;
}

export interface ColdStartResult {
  runs: number;
  rows: ColdStartRow[];
}

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..');

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    t = Math.max(t, name.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return t;
}

/** Builds `dist/` when it is missing or older than the sources. */
export function ensureBuilt(log: (text: string) => void): void {
  const built = join(root, 'dist', 'express.js');
  const sources = Math.max(newest(join(root, 'src')), newest(join(root, 'adapters')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  log('building dist/: the benchmark measures the built package');
  const out = spawnSync('npx', ['tsup'], { cwd: root, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`npx tsup failed:\n${out.stdout}${out.stderr}`);
}

function once(file: string): ColdProcess {
  const out = spawnSync(process.execPath, [join(here, 'cold', file)], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NODE_OPTIONS: '' },
  });
  if (out.status !== 0) throw new Error(`${file} failed:\n${out.stderr}`);
  const r = JSON.parse(out.stdout) as { ready: number; cpu: number };
  return { readyMs: r.ready, cpuMs: r.cpu };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] ?? 0) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
}

/** Runs `runs` processes of each kind, alternating (after one unmeasured pair to warm the file cache). */
export function measureColdStart(runs: number, log: (text: string) => void = () => {}): ColdStartResult {
  ensureBuilt(log);
  const rows: ColdStartRow[] = [];
  for (const [modules, ext] of [
    ['ESM', 'mjs'],
    ['CommonJS', 'cjs'],
  ] as const) {
    once(`sdk.${ext}`);
    once(`ours.${ext}`);
    const baseline: ColdProcess[] = [];
    const ours: ColdProcess[] = [];
    for (let i = 0; i < runs; i++) {
      baseline.push(once(`sdk.${ext}`));
      ours.push(once(`ours.${ext}`));
    }
    const of = (list: ColdProcess[]): ColdProcess => ({
      readyMs: median(list.map((p) => p.readyMs)),
      cpuMs: median(list.map((p) => p.cpuMs)),
    });
    rows.push({ modules, baseline: of(baseline), ours: of(ours) });
    log(`cold start ${modules}: ${runs} processes of each kind`);
  }
  return { runs, rows };
}

/** The cold-start table. */
export function coldStartTable(result: ColdStartResult): string {
  const f = (n: number) => n.toFixed(0);
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  return [
    '| Modules | `@aws-sdk/client-dynamodb` + `express-session`, a client made: ready ms / CPU ms | `dynamodb-sessions/express`, a store made: ready ms / CPU ms | ready × | CPU × |',
    '|---|--:|--:|--:|--:|',
    ...result.rows.map(
      (r) =>
        `| ${r.modules} | ${f(r.baseline.readyMs)} / ${f(r.baseline.cpuMs)} | ${f(r.ours.readyMs)} / ${f(r.ours.cpuMs)} | ${x(r.ours.readyMs, r.baseline.readyMs)} | ${x(r.ours.cpuMs, r.baseline.cpuMs)} |`,
    ),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a whole number >= 1, got ${values.runs}`);
  const result = measureColdStart(runs, (t) => process.stderr.write(`${t}\n`));
  console.log(coldStartTable(result));
}
