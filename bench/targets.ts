/** The product's targets, checked on one run's results. */
import type { RunResult, StoreResult, TargetCheck } from './report.ts';

function calls(r: StoreResult, op: string): number {
  return r.ops[op]?.calls ?? 0;
}

/** `express, own client` or `express, client passed in`. */
function nameOf(r: StoreResult): string {
  const path = {
    'ours-client': 'plain client passed in',
    'ours-client-mw': 'client with middleware passed in',
    'ours-client-sdk': "client with middleware passed in, transport: 'sdk'",
    'ours-plain-ids': 'own client, hashIds: false',
  }[r.store];
  return `${r.framework}, ${path ?? 'own client'}`;
}

function perRequestChecks(r: StoreResult, touchAfter: number | undefined): TargetCheck[] {
  const name = nameOf(r);
  const total = Object.values(r.ops).reduce((n, o) => n + o.calls, 0);
  const gets = calls(r, 'GetItem');
  const puts = calls(r, 'PutItem');
  const updates = calls(r, 'UpdateItem');
  const rcuPerRead = gets ? (r.ops.GetItem?.rcu ?? 0) / gets : Number.NaN;
  // two requests of one session in flight at once: the engine merges their changes (one more
  // PutItem, or two saves written as one); the counts may differ from the strict ones by that many
  const conflicts = r.conflicts ?? 0;
  const merged = conflicts ? `, ${conflicts} concurrent change(s) of one session merged` : '';
  return [
    {
      target: `${name}: exactly one DynamoDB call per unmodified read`,
      measured: `${r.reads} reads + ${r.writes} writes → ${gets} GetItem, ${puts} PutItem, ${total - gets - puts} other${merged}; ${((total - 2 * r.writes) / r.reads).toFixed(3)} calls per read`,
      met: gets === r.requests && Math.abs(total - r.requests - r.writes) <= conflicts,
    },
    {
      target: `${name}: zero touch writes inside touchAfter (${touchAfter ?? 3600} s)`,
      measured: `${updates} UpdateItem, ${puts - r.writes} PutItem beyond the ${r.writes} changed sessions${merged}`,
      met: updates === 0 && Math.abs(puts - r.writes) <= conflicts,
    },
    {
      target: `${name}: RCU per 1,000 reads = 500`,
      measured: `${(rcuPerRead * 1000).toFixed(1)} (GetItem RCU ${(r.ops.GetItem?.rcu ?? 0).toFixed(1)} / ${gets} calls)`,
      met: Math.abs(rcuPerRead * 1000 - 500) < 1e-9,
    },
  ];
}

/** `ours` at most `limit` × `reference` in CPU per request. */
function cpuCheck(target: string, ours: StoreResult, reference: StoreResult, limit: number): TargetCheck {
  const ratio = ours.cpuUsPerReq / reference.cpuUsPerReq;
  return {
    target,
    measured: `${ours.cpuUsPerReq.toFixed(0)} µs vs ${reference.cpuUsPerReq.toFixed(0)} µs (${ratio.toFixed(2)}×)`,
    met: ratio <= limit,
  };
}

/** Checks the targets that the run's stores allow to check. */
export function checkTargets(run: RunResult): TargetCheck[] {
  const out: TargetCheck[] = [];
  const find = (id: string): StoreResult | undefined => run.main.find((r) => r.id === id);
  const ours = find('express/ours');
  const oursClient = find('express/ours-client');
  const pwrdrvr = find('express/pwrdrvr');
  const connect = find('express/connect-dynamodb');
  const koaClient = find('koa/ours-client');
  const koaRaw = find('koa/raw');
  const touchAfter = run.options.touchAfter as number | undefined;
  const seed = '@pwrdrvr/dynamodb-session-store';
  if (ours && pwrdrvr)
    out.push(cpuCheck(`express, own client: CPU per request ≤ 0.70 × ${seed}`, ours, pwrdrvr, 0.7));
  if (oursClient && pwrdrvr)
    out.push(
      cpuCheck(`express, plain client passed in: CPU per request ≤ 0.90 × ${seed}`, oursClient, pwrdrvr, 0.9),
    );
  if (koaClient && koaRaw)
    out.push(
      cpuCheck(
        'koa, plain client passed in: CPU per request ≤ 1.00 × the raw SDK floor',
        koaClient,
        koaRaw,
        1,
      ),
    );
  // the frameworks without a published DynamoDB store: against their raw SDK floor
  for (const framework of ['hono', 'react-router']) {
    const floor = find(`${framework}/raw`);
    const own = find(`${framework}/ours`);
    const plain = find(`${framework}/ours-client`);
    if (own && floor)
      out.push(
        cpuCheck(`${framework}, own client: CPU per request ≤ 0.75 × the raw SDK floor`, own, floor, 0.75),
      );
    if (plain && floor)
      out.push(
        cpuCheck(
          `${framework}, plain client passed in: CPU per request ≤ 1.00 × the raw SDK floor`,
          plain,
          floor,
          1,
        ),
      );
  }
  if (ours && connect) out.push(cpuCheck('express: CPU per request ≤ connect-dynamodb', ours, connect, 1));
  const plainIds = find('express/ours-plain-ids');
  if (ours && plainIds)
    out.push(
      cpuCheck('express, own client: hashed ids cost ≤ 1.05 × plain ids in CPU', ours, plainIds, 1.05),
    );
  for (const row of run.coldStart?.rows ?? []) {
    const ratio = row.ours.cpuMs / row.baseline.cpuMs;
    out.push({
      target: `start-up (${row.modules}): importing dynamodb-sessions/express and making a store ≤ 1.10 × the SDK's client and express-session`,
      measured: `${row.ours.cpuMs.toFixed(0)} ms vs ${row.baseline.cpuMs.toFixed(0)} ms of CPU (${ratio.toFixed(2)}×); ready after ${row.ours.readyMs.toFixed(0)} ms vs ${row.baseline.readyMs.toFixed(0)} ms`,
      met: ratio <= 1.1,
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
