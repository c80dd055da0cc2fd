/** The benchmark's results: their shape, the markdown tables and the SVG chart, from the JSON alone. */
import { readFileSync, writeFileSync } from 'node:fs';
import { type ColdStartResult, coldStartTable } from './coldstart.ts';

/** DynamoDB counters of one operation over a store's measured windows. */
export interface OpTotals {
  calls: number;
  errors: number;
  rcu: number;
  wcu: number;
  estimated: number;
}

/** One store (in one framework) over all its measured slices. */
export interface StoreResult {
  id: string;
  framework: string;
  store: string;
  label: string;
  /** `ours`, `floor` (raw SDK), `peer` (a published store) or `baseline` (no database). */
  kind: 'ours' | 'floor' | 'peer' | 'baseline';
  sessions: number;
  requests: number;
  reads: number;
  writes: number;
  /** Saves of this package that met a concurrent change of their session: each cost one more PutItem. */
  conflicts: number;
  elapsedMs: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  cpuUsPerReq: number;
  /** CPU µs per request of each slice, to show the noise. */
  cpuUsPerReqSlices: number[];
  ops: Record<string, OpTotals>;
  callsPer1k: number;
  rcuPer1k: number;
  wcuPer1k: number;
  notes: string[];
}

/** A target of the product, checked on one run. */
export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean;
}

/** Everything `latest.json` holds. */
export interface RunResult {
  date: string;
  /** `loadAverage`: the 1-minute load average at the start and at the end of the run. */
  machine: {
    nproc: number;
    cpuModel: string;
    node: string;
    platform: string;
    loadAverage: number[];
    /** Whether the servers had core 0 to themselves (`--no-pin` turns it off). */
    pinned?: boolean;
  };
  options: Record<string, unknown>;
  sliceRequests: number;
  runSeconds: number;
  main: StoreResult[];
  scale: StoreResult[];
  calibration: Record<string, unknown> | null;
  /** Start-up cost of cold processes (`--cold-runs`), or `null` when skipped. */
  coldStart: ColdStartResult | null;
  targets: TargetCheck[];
  notes: string[];
}

function fixed(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '–';
}

function ratio(a: number, b: number | undefined): string {
  return b && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–';
}

function spread(values: number[]): string {
  if (values.length < 2) return '';
  return ` (${fixed(Math.min(...values))}–${fixed(Math.max(...values))})`;
}

const opShort: Record<string, string> = {
  GetItem: 'Get',
  PutItem: 'Put',
  UpdateItem: 'Update',
  DeleteItem: 'Delete',
  BatchWriteItem: 'Batch',
};

/**
 * DynamoDB calls per 1,000 requests, by operation in a fixed order: `Get 1000 · Put 50`, with the number of calls
 * that failed (a failed condition is an answer, not a failure) when there were any.
 */
export function callMix(r: StoreResult): string {
  const order = (op: string): number => {
    const i = Object.keys(opShort).indexOf(op);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const parts = Object.entries(r.ops)
    .filter(([, o]) => o.calls > 0)
    .sort(([a], [b]) => order(a) - order(b))
    .map(([op, o]) => {
      const failed = o.errors > 0 ? ` (${o.errors} failed)` : '';
      return `${opShort[op] ?? op} ${fixed((o.calls / r.requests) * 1000)}${failed}`;
    });
  return parts.length ? parts.join(' · ') : '–';
}

/** The same framework's raw floor and best published store (lowest value of `metric`). */
export function referencesOf(
  r: StoreResult,
  all: StoreResult[],
  metric: (s: StoreResult) => number,
): { floor: number | undefined; peer: number | undefined } {
  const same = all.filter((s) => s.framework === r.framework);
  const floor = same.find((s) => s.kind === 'floor');
  const peers = same.filter((s) => s.kind === 'peer').map(metric);
  return { floor: floor && metric(floor), peer: peers.length ? Math.min(...peers) : undefined };
}

/** The main table: one row per store, ratios against the same run's floor and best peer. */
export function mainTable(results: StoreResult[]): string {
  const head =
    '| Framework | Store | req/s | p50 ms | p99 ms | non-2xx | CPU µs/req (slices) | CPU × floor | CPU × best peer | DynamoDB calls / 1k req | RCU / 1k | WCU / 1k |\n' +
    '|---|---|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|';
  const rows = results.map((r) => {
    const cpu = referencesOf(r, results, (s) => s.cpuUsPerReq);
    const dynamo = r.kind !== 'baseline';
    return `| ${r.framework} | ${r.label} | ${fixed(r.rps)} | ${fixed(r.p50Ms, 1)} | ${fixed(r.p99Ms, 1)} | ${r.non2xx + r.errors} | ${fixed(r.cpuUsPerReq)}${spread(r.cpuUsPerReqSlices)} | ${ratio(r.cpuUsPerReq, cpu.floor)} | ${ratio(r.cpuUsPerReq, cpu.peer)} | ${dynamo ? callMix(r) : 'none'} | ${dynamo ? fixed(r.rcuPer1k, 1) : '–'} | ${dynamo ? fixed(r.wcuPer1k, 1) : '–'} |`;
  });
  return [head, ...rows].join('\n');
}

/** The scale table: the same stores at the main run's session count and at the scale count. */
export function scaleTable(main: StoreResult[], scale: StoreResult[]): string {
  const head =
    '| Store | Sessions | req/s | CPU µs/req | CPU × at fewer sessions | DynamoDB calls / 1k req | RCU / 1k | WCU / 1k |\n' +
    '|---|--:|--:|--:|--:|---|--:|--:|';
  const rows: string[] = [];
  for (const big of scale) {
    const small = main.find((m) => m.id === big.id);
    for (const r of small ? [small, big] : [big]) {
      const x = r === big && small ? ratio(big.cpuUsPerReq, small.cpuUsPerReq) : '';
      rows.push(
        `| ${r.framework} ${r.label} | ${r.sessions.toLocaleString('en-US')} | ${fixed(r.rps)} | ${fixed(r.cpuUsPerReq)}${spread(r.cpuUsPerReqSlices)} | ${x} | ${callMix(r)} | ${fixed(r.rcuPer1k, 1)} | ${fixed(r.wcuPer1k, 1)} |`,
      );
    }
  }
  return [head, ...rows].join('\n');
}

/** The targets, as a table. */
export function targetTable(targets: TargetCheck[]): string {
  return [
    '| Target | Measured | Met |',
    '|---|---|---|',
    ...targets.map((t) => `| ${t.target} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
  ].join('\n');
}

/** The whole report: the machine, the tables, the capacity check and the notes. */
export function renderMarkdown(run: RunResult): string {
  const o = run.options;
  const m = run.machine;
  const out = [
    `Run of ${run.date} in ${run.runSeconds} s: ${m.nproc} cores (${m.cpuModel}), node ${m.node}, ${m.platform}; ` +
      `load average ${m.loadAverage.join(' → ')}. ${o.sessions} sessions of ~${o.sessionBytes} B per store, ` +
      `${o.writePercent}% writes, ${o.connections} connections, ${o.slices} slices of ${run.sliceRequests} requests ` +
      `per store, each after ${o.leadIn ?? 0} unmeasured ones, interleaved (all stores get the same request sequence)` +
      (m.pinned ? '; the servers on core 0, DynamoDB Local and the load generator on the others.' : '.'),
    '',
    mainTable(run.main),
    '',
  ];
  if (run.scale.length) {
    const big = run.scale[0]?.sessions ?? 0;
    out.push(
      `Per-request cost at ${o.sessions} and at ${big.toLocaleString('en-US')} stored sessions (measured in the same slices):`,
      '',
      scaleTable(run.main, run.scale),
      '',
    );
  }
  if (run.coldStart) {
    out.push(
      `Start-up cost (cold processes from \`dist/\`, median of ${run.coldStart.runs} of each kind, run alternately): time from the process start until the store or client is made, and CPU time until then:`,
      '',
      coldStartTable(run.coldStart),
      '',
    );
  }
  if (run.targets.length) out.push('Targets:', '', targetTable(run.targets), '');
  const c = run.calibration as {
    agrees?: boolean;
    engine?: unknown;
    counted?: unknown;
    getItem?: unknown;
    putItem?: unknown;
  } | null;
  if (c) {
    out.push(
      `Capacity check (${c.agrees ? 'agrees' : '**disagrees**'}): the engine's own \`capacity: true\` counters ${JSON.stringify(c.engine)}, ` +
        `the benchmark's counting middleware ${JSON.stringify(c.counted)}; units DynamoDB Local reported against units computed from item sizes: ` +
        `GetItem ${JSON.stringify(c.getItem)}, PutItem ${JSON.stringify(c.putItem)}.`,
      '',
    );
  }
  for (const note of run.notes) out.push(`Note: ${note}`);
  return out.join('\n');
}

/** Replaces what is between the `<!-- NAME:start -->` and `<!-- NAME:end -->` markers of a markdown file. */
export function publish(file: string, name: string, markdown: string): void {
  const startMarker = `<!-- ${name}:start -->`;
  const endMarker = `<!-- ${name}:end -->`;
  const text = readFileSync(file, 'utf8');
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker);
  if (start < 0 || end < start) throw new Error(`${file} has no ${startMarker} ... ${endMarker} section`);
  writeFileSync(file, `${text.slice(0, start + startMarker.length)}\n${markdown}\n${text.slice(end)}`);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A horizontal bar chart, two panels: server CPU µs per request, and read/write capacity units per
 * 1,000 requests, one row per store.
 */
export function chartSvg(run: RunResult): string {
  const rows = run.main;
  const rowH = 22;
  const labelW = 400;
  const panelW = 300;
  const gap = 90;
  const top = 64;
  const height = top + rows.length * rowH + 48;
  const width = labelW + 2 * panelW + gap + 70;
  const maxCpu = Math.max(1, ...rows.map((r) => r.cpuUsPerReq));
  const maxUnits = Math.max(1, ...rows.map((r) => Math.max(r.rcuPer1k, r.wcuPer1k, r.rcuPer1k + r.wcuPer1k)));
  const colors: Record<StoreResult['kind'], string> = {
    ours: '#1f6feb',
    floor: '#8b949e',
    peer: '#d29922',
    baseline: '#3fb950',
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="title" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    '<title id="title">Server CPU µs per request and DynamoDB capacity units per 1,000 requests, by session store</title>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">Session store cost per request (${escapeXml(run.machine.cpuModel)}, ${run.machine.nproc} cores, node ${run.machine.node})</text>`,
    `<text x="${labelW}" y="${top - 12}" font-weight="bold">Server CPU µs per request</text>`,
    `<text x="${labelW + panelW + gap}" y="${top - 12}" font-weight="bold">Capacity units per 1,000 requests</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const cpuW = (r.cpuUsPerReq / maxCpu) * panelW;
    parts.push(
      `<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${escapeXml(`${r.framework} · ${r.label}`)}</text>`,
      `<rect x="${labelW}" y="${y + 3}" width="${cpuW.toFixed(1)}" height="${rowH - 8}" fill="${colors[r.kind]}"/>`,
      `<text x="${(labelW + cpuW + 4).toFixed(1)}" y="${y + 14}">${fixed(r.cpuUsPerReq)}</text>`,
    );
    const x0 = labelW + panelW + gap;
    const half = (rowH - 8) / 2;
    const rW = (r.rcuPer1k / maxUnits) * panelW;
    const wW = (r.wcuPer1k / maxUnits) * panelW;
    if (r.kind === 'baseline') {
      parts.push(`<text x="${x0}" y="${y + 14}" fill="#57606a">no database</text>`);
    } else {
      parts.push(
        `<rect x="${x0}" y="${y + 3}" width="${rW.toFixed(1)}" height="${half}" fill="#54aeff"/>`,
        `<rect x="${x0}" y="${y + 3 + half}" width="${wW.toFixed(1)}" height="${half}" fill="#cf222e"/>`,
        `<text x="${(x0 + Math.max(rW, wW) + 4).toFixed(1)}" y="${y + 14}">R ${fixed(r.rcuPer1k)} · W ${fixed(r.wcuPer1k)}</text>`,
      );
    }
  });
  const ly = top + rows.length * rowH + 22;
  const legend: [string, string][] = [
    [colors.ours, 'this package'],
    [colors.floor, 'raw SDK floor'],
    [colors.peer, 'published store'],
    [colors.baseline, 'no database'],
    ['#54aeff', 'RCU'],
    ['#cf222e', 'WCU'],
  ];
  legend.forEach(([color, text], i) => {
    const x = 10 + i * 150;
    parts.push(
      `<rect x="${x}" y="${ly - 10}" width="12" height="12" fill="${color}"/>`,
      `<text x="${x + 18}" y="${ly}">${escapeXml(text)}</text>`,
    );
  });
  parts.push(
    `<text x="10" y="${ly + 20}" fill="#57606a">${escapeXml(`${run.options.writePercent}% writes, ${run.options.sessions} sessions of ~${run.options.sessionBytes} B, ${run.sliceRequests} requests × ${run.options.slices} interleaved slices per store; DynamoDB Local. ${run.date}`)}</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
