/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof` or the benchmark's `--profile`): the top
 * functions by self time and by inclusive time, and the time by package, as shares of the busy
 * (non-idle) time. Usage: tsx bench/profile.ts FILE.cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a function comes from: a package, this package's source, node itself, or V8. */
export function packageOf(url: string, name: string): string {
  if (name === '(garbage collector)') return '(garbage collector)';
  if (name === '(program)' || name === '(idle)' || name === '(root)') return name;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1]) return nm[1];
  if (url.startsWith('node:')) return 'node (internal)';
  const own = /\/(src|adapters|bench|dist)\/(.+)$/.exec(url);
  if (own) return `${own[1]}/${own[2]}`;
  return url ? url : '(native/V8 builtins)';
}

function keyOf(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url
    ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|adapters|bench|dist)\//, '$1/')}:${lineNumber + 1}`
    : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
}

interface Analysis {
  /** Busy (non-idle) time, µs. */
  busy: number;
  self: Map<string, number>;
  inclusive: Map<string, number>;
  packages: Map<string, number>;
  packagesInclusive: Map<string, number>;
}

function add(m: Map<string, number>, key: string, us: number): void {
  m.set(key, (m.get(key) ?? 0) + us);
}

/** Self and inclusive time by function and by package (a recursive function counts once per sample). */
export function analyze(file: string): Analysis {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const a: Analysis = {
    busy: 0,
    self: new Map(),
    inclusive: new Map(),
    packages: new Map(),
    packagesInclusive: new Map(),
  };
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    a.busy += dt;
    add(a.self, keyOf(node), dt);
    add(a.packages, packageOf(node.callFrame.url, node.callFrame.functionName), dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n) break;
      const k = keyOf(n);
      const p = `pkg:${packageOf(n.callFrame.url, n.callFrame.functionName)}`;
      if (!seen.has(k)) add(a.inclusive, k, dt);
      if (!seen.has(p)) add(a.packagesInclusive, p.slice(4), dt);
      seen.add(k);
      seen.add(p);
    }
  });
  return a;
}

/** The part of a server a package belongs to. */
export function categoryOf(pkg: string): string {
  if (pkg.startsWith('@smithy/') || pkg.startsWith('@aws-sdk/') || pkg.startsWith('@aws/'))
    return 'AWS SDK (@aws-sdk, @smithy)';
  if (pkg === '(native/V8 builtins)' || pkg === '(program)')
    return 'native: syscalls (socket writes), JSON, crypto';
  if (pkg === 'node (internal)') return 'node internals (http, streams, events, timers)';
  if (pkg === '(garbage collector)') return 'garbage collector';
  if (pkg.startsWith('dist/') || pkg.startsWith('src/') || pkg.startsWith('adapters/'))
    return 'dynamodb-sessions (dist/)';
  if (pkg.startsWith('bench/')) return 'benchmark (routes, raw store, counting middleware)';
  if (pkg === 'connect-dynamodb' || pkg === '@pwrdrvr/dynamodb-session-store') return 'the store package';
  return 'framework and session middleware';
}

/** Self time by part, in µs per request, one column per profile. */
export function compare(profiles: { name: string; file: string }[], requests: number): string {
  const columns = profiles.map((p) => {
    const a = analyze(p.file);
    const parts = new Map<string, number>();
    for (const [pkg, us] of a.packages) add(parts, categoryOf(pkg), us);
    return { name: p.name, busy: a.busy, parts };
  });
  const names = [...new Set(columns.flatMap((c) => [...c.parts.keys()]))].sort(
    (x, y) => (columns[0]?.parts.get(y) ?? 0) - (columns[0]?.parts.get(x) ?? 0),
  );
  const cell = (us: number | undefined): string => ((us ?? 0) / requests).toFixed(0);
  return [
    `| Self time, µs per request | ${columns.map((c) => c.name).join(' | ')} |`,
    `|---|${columns.map(() => '--:').join('|')}|`,
    ...names.map((n) => `| ${n} | ${columns.map((c) => cell(c.parts.get(n))).join(' | ')} |`),
    `| **total (profiled)** | ${columns.map((c) => `**${cell(c.busy)}**`).join(' | ')} |`,
  ].join('\n');
}

/** Markdown tables of the profile's top `top` functions and of its time by package. */
export function summarize(file: string, top = 20, requests?: number): string {
  const { busy, self, inclusive, packages, packagesInclusive } = analyze(file);
  const pct = (us: number): string => `${((us / busy) * 100).toFixed(1)} %`;
  const perReq = (us: number): string => (requests ? ` | ${(us / requests).toFixed(1)}` : '');
  const unit = requests ? ' | µs/req' : '';
  const unitSep = requests ? '|--:' : '';
  const rows = (m: Map<string, number>, n: number): string[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `| \`${k}\` | ${pct(us)}${perReq(us)} |`);
  const pkgRows = [...packages]
    .sort((a, b) => b[1] - a[1])
    .map(([k, us]) => `| ${k} | ${pct(us)} | ${pct(packagesInclusive.get(k) ?? 0)} |`);
  return [
    `Busy time ${(busy / 1000).toFixed(0)} ms (idle excluded)${requests ? ` over ${requests} requests` : ''}.`,
    '',
    `| Self time: function | share${unit} |`,
    `|---|--:${unitSep}|`,
    ...rows(self, top),
    '',
    `| Inclusive time: function | share${unit} |`,
    `|---|--:${unitSep}|`,
    ...rows(inclusive, top),
    '',
    '| Package | self | inclusive |',
    '|---|--:|--:|',
    ...pkgRows,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [file, top, requests] = process.argv.slice(2);
  if (!file) {
    console.error('usage: tsx bench/profile.ts FILE.cpuprofile [TOP] [REQUESTS]');
    process.exit(2);
  }
  console.log(summarize(file, Number(top ?? 20), requests ? Number(requests) : undefined));
}
