/** Sums one store's measured slices into a result row, and checks the counted capacity units once. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SessionEngine } from '../src/engine.ts';
import { createTable } from '../src/table.ts';
import { CommandCounter, type OperationCount } from './counter.ts';
import type { SliceResult, WindowStats } from './harness.ts';
import type { CatalogueEntry } from './options.ts';
import type { StoreResult } from './report.ts';
import { applyWrite, sequence, sessionData } from './workload.ts';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** One store's slices: what the client saw and what the server reported. */
export class Tally {
  private readonly slices: { client: SliceResult; server: WindowStats; writes: number }[] = [];

  add(client: SliceResult, server: WindowStats, writes: number): void {
    this.slices.push({ client, server, writes });
  }

  result(entry: CatalogueEntry, sessions: number, notes: string[]): StoreResult {
    const [framework = '', store = ''] = entry.id.split('/');
    const total = (f: (s: (typeof this.slices)[number]) => number): number =>
      this.slices.reduce((n, s) => n + f(s), 0);
    const requests = total((s) => s.client.requests);
    const writes = total((s) => s.writes);
    const latencies = this.slices.flatMap((s) => s.client.latenciesMs).sort((a, b) => a - b);
    const ops: Record<string, OperationCount> = {};
    for (const s of this.slices) {
      for (const [op, c] of Object.entries(s.server.ops)) {
        const t = ops[op] ?? { calls: 0, errors: 0, rcu: 0, wcu: 0, estimated: 0 };
        t.calls += c.calls;
        t.errors += c.errors;
        t.rcu += c.rcu;
        t.wcu += c.wcu;
        t.estimated = t.estimated < 0 || c.estimated < 0 ? -1 : t.estimated + c.estimated;
        ops[op] = t;
      }
    }
    const sum = (f: (o: OperationCount) => number): number =>
      Object.values(ops).reduce((n, o) => n + f(o), 0);
    const per1k = (n: number): number => (n / requests) * 1000;
    const elapsedMs = total((s) => s.client.elapsedMs);
    return {
      id: entry.id,
      framework,
      store,
      label: entry.label,
      kind: entry.kind,
      sessions,
      requests,
      reads: requests - writes,
      writes,
      conflicts: total((s) => s.server.conflicts ?? 0),
      elapsedMs,
      rps: (requests / elapsedMs) * 1000,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      non2xx: total((s) => s.client.non2xx),
      errors: total((s) => s.client.errors),
      cpuUsPerReq: total((s) => s.server.cpuUs) / requests,
      cpuUsPerReqSlices: this.slices.map((s) => s.server.cpuUs / s.client.requests),
      ops,
      callsPer1k: per1k(sum((o) => o.calls)),
      rcuPer1k: per1k(sum((o) => o.rcu)),
      wcuPer1k: per1k(sum((o) => o.wcu)),
      notes,
    };
  }
}

/** The capacity check: the counting middleware against the engine's own `capacity: true` counters. */
export interface Calibration {
  requests: number;
  engine: { calls: number; rcu: number; wcu: number };
  counted: { calls: number; rcu: number; wcu: number };
  /** Units computed at the client from item sizes (DynamoDB's rules), against the reported ones. */
  getItem: { calls: number; reportedRcu: number; estimatedRcu: number };
  putItem: { calls: number; reportedWcu: number; estimatedWcu: number };
  agrees: boolean;
}

/**
 * Runs the workload's engine calls (a load per request, a save of changed sessions, an unchanged
 * save otherwise) on an engine with `capacity: true`, its client also counted by the middleware.
 */
export async function calibrate(
  connection: {
    region: string;
    endpoint: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
  },
  options: { sessions: number; requests: number; sessionBytes: number; writeShare: number; seed: number },
): Promise<Calibration> {
  const tableName = 'bench_calibration';
  await createTable(new DynamoDBClient(connection), { tableName });
  // given a client, the engine sends through its middleware stack, where the counter sees the calls
  const client = new DynamoDBClient(connection);
  const engine = new SessionEngine({ tableName, client, capacity: true });
  const counter = new CommandCounter();
  counter.estimating = true;
  counter.attach(client);
  const expires = Math.floor(Date.now() / 1000) + 86_400;
  const data = Array.from({ length: options.sessions }, (_, i) => sessionData(i, options.sessionBytes));
  await Promise.all(data.map((d, i) => engine.set(`s${i}`, { ...d }, expires, { loaded: null })));
  const before = engine.stats().total;
  counter.reset();
  const steps = sequence(options.seed, 50_000_000, options.requests, options.sessions, options.writeShare);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let step = steps[next++]; step; step = steps[next++]) {
      const record = await engine.load(`s${step.s}`);
      if (!record) throw new Error(`calibration: session ${step.s} is missing`);
      const session = record.data as unknown as Parameters<typeof applyWrite>[0];
      if (step.write) applyWrite(session, step.s, 1 + (next % 9), 50_000_000 + next);
      await engine.set(`s${step.s}`, record.data, expires, { loaded: record });
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const after = engine.stats().total;
  const ops = Object.values(counter.ops);
  const sum = (f: (o: OperationCount) => number): number => ops.reduce((n, o) => n + f(o), 0);
  const get = counter.ops.GetItem ?? { calls: 0, rcu: 0, estimated: 0, wcu: 0, errors: 0 };
  const put = counter.ops.PutItem ?? { calls: 0, rcu: 0, estimated: 0, wcu: 0, errors: 0 };
  const engineTotals = {
    calls: after.calls - before.calls,
    rcu: after.rcu - before.rcu,
    wcu: after.wcu - before.wcu,
  };
  const counted = { calls: sum((o) => o.calls), rcu: sum((o) => o.rcu), wcu: sum((o) => o.wcu) };
  client.destroy();
  return {
    requests: steps.length,
    engine: engineTotals,
    counted,
    getItem: { calls: get.calls, reportedRcu: get.rcu, estimatedRcu: get.estimated },
    putItem: { calls: put.calls, reportedWcu: put.wcu, estimatedWcu: put.estimated },
    agrees:
      engineTotals.calls === counted.calls &&
      Math.abs(engineTotals.rcu - counted.rcu) < 1e-9 &&
      Math.abs(engineTotals.wcu - counted.wcu) < 1e-9 &&
      get.rcu > 0 &&
      Math.abs(get.rcu - get.estimated) < 1e-9,
  };
}
