/** The product's targets, checked on one run's results. */
import type { RunResult, StoreResult, TargetCheck } from './report.ts';

function calls(r: StoreResult, op: string): number {
  return r.ops[op]?.calls ?? 0;
}

function perRequestChecks(r: StoreResult, touchAfter: number | undefined): TargetCheck[] {
  const total = Object.values(r.ops).reduce((n, o) => n + o.calls, 0);
  const gets = calls(r, 'GetItem');
  const puts = calls(r, 'PutItem');
  const updates = calls(r, 'UpdateItem');
  const rcuPerRead = gets ? (r.ops.GetItem?.rcu ?? 0) / gets : Number.NaN;
  return [
    {
      target: `${r.framework}: exactly one DynamoDB call per unmodified read`,
      measured: `${r.reads} reads + ${r.writes} writes → ${gets} GetItem, ${puts} PutItem, ${total - gets - puts} other; ${((total - 2 * r.writes) / r.reads).toFixed(3)} calls per read`,
      met: gets === r.requests && total === r.requests + r.writes,
    },
    {
      target: `${r.framework}: zero touch writes inside touchAfter (${touchAfter ?? 3600} s)`,
      measured: `${updates} UpdateItem, ${puts - r.writes} PutItem beyond the ${r.writes} changed sessions`,
      met: updates === 0 && puts === r.writes,
    },
    {
      target: `${r.framework}: RCU per 1,000 reads = 500`,
      measured: `${(rcuPerRead * 1000).toFixed(1)} (GetItem RCU ${(r.ops.GetItem?.rcu ?? 0).toFixed(1)} / ${gets} calls)`,
      met: Math.abs(rcuPerRead * 1000 - 500) < 1e-9,
    },
  ];
}

/** Checks the targets that the run's stores allow to check. */
export function checkTargets(run: RunResult): TargetCheck[] {
  const out: TargetCheck[] = [];
  const find = (id: string): StoreResult | undefined => run.main.find((r) => r.id === id);
  const ours = find('express/ours');
  const pwrdrvr = find('express/pwrdrvr');
  const connect = find('express/connect-dynamodb');
  const touchAfter = run.options.touchAfter as number | undefined;
  if (ours && pwrdrvr) {
    const limit = 0.85 * pwrdrvr.cpuUsPerReq;
    out.push({
      target: 'express: CPU per request ≤ 0.85 × @pwrdrvr/dynamodb-session-store',
      measured: `${ours.cpuUsPerReq.toFixed(0)} µs vs ${pwrdrvr.cpuUsPerReq.toFixed(0)} µs (${(ours.cpuUsPerReq / pwrdrvr.cpuUsPerReq).toFixed(2)}×)`,
      met: ours.cpuUsPerReq <= limit,
    });
  }
  if (ours && connect) {
    out.push({
      target: 'express: CPU per request ≤ connect-dynamodb',
      measured: `${ours.cpuUsPerReq.toFixed(0)} µs vs ${connect.cpuUsPerReq.toFixed(0)} µs (${(ours.cpuUsPerReq / connect.cpuUsPerReq).toFixed(2)}×)`,
      met: ours.cpuUsPerReq <= connect.cpuUsPerReq,
    });
  }
  for (const r of run.main.filter((m) => m.kind === 'ours')) out.push(...perRequestChecks(r, touchAfter));
  const peers = run.main.filter((r) => r.kind === 'peer' && r.framework === 'express');
  if (ours && peers.length) {
    const best = peers.reduce((a, b) => (b.wcuPer1k < a.wcuPer1k ? b : a));
    out.push({
      target: 'express: WCU per 1,000 requests ≤ the best peer',
      measured: `${ours.wcuPer1k.toFixed(1)} vs ${best.wcuPer1k.toFixed(1)} (${best.label})`,
      met: ours.wcuPer1k <= best.wcuPer1k + 1e-9,
    });
  }
  return out;
}
