/**
 * The monthly cost model of a DynamoDB session table behind `dynamodb-sessions cost`: pure
 * arithmetic, no I/O. Every price and assumption is an input with its default in `COST_DEFAULTS`;
 * `cost-report.ts` prints it.
 */
import { InvalidOptionError } from '../src/index.js';

/** How the table pays for throughput. @public */
export type CostBilling = 'provisioned' | 'on-demand';

/** Inputs of the cost model; each default is in `COST_DEFAULTS`. @public */
export interface CostInputs {
  /** Average item size in KB (1 KB = 1024 bytes), before compression. */
  sessionKb: number;
  /** Requests per minute on average; each reads its session once. */
  rpm: number;
  /** New sessions per month; each is one full-item write. */
  newPerMonth: number;
  /** Session changes per month; each is one full-item write. */
  updatesPerMonth: number;
  /** Sessions stored at any time (billed as storage). */
  stored: number;
  /** Seconds between expiry rewrites of an unmodified session; `0` writes on every read. */
  touchAfter: number;
  /** Minutes a new session stays in use; touched every `touchAfter` seconds meanwhile. */
  sessionMinutes: number;
  /** Strongly consistent reads (1 RCU per 4 KB instead of 0.5). */
  consistent: boolean;
  /** Stored size / original size, in (0, 1]; `0.5` halves item size and storage. */
  compressRatio: number;
  /**
   * Regions the table is replicated to (a DynamoDB global table); `1` is a single-region table.
   * Every replica applies every write and bills it as a replicated write; reads stay local.
   */
  regions: number;
  billing: CostBilling;
  /** Provisioned billing: the least WCU provisioned, for write bursts. */
  burstWcu: number;
  /** Hours in a billed month. */
  hoursPerMonth: number;
  /** Provisioned: $ per RCU per hour. */
  priceRcuHour: number;
  /** Provisioned: $ per WCU per hour. */
  priceWcuHour: number;
  /** $ per GB stored per month (1 GB = 1,000,000 KB, as AWS's examples count it). */
  priceGbMonth: number;
  /** On-demand: $ per million read request units. */
  priceReadMillion: number;
  /** On-demand: $ per million write request units. */
  priceWriteMillion: number;
  /** Global table, provisioned: $ per replicated write capacity unit (rWCU) per hour. */
  priceRwcuHour: number;
  /** Global table, on-demand: $ per million replicated write request units (rWRU). */
  priceReplicatedWriteMillion: number;
  /** Global table: $ per GB sent to another region (cross-Region data transfer). */
  priceTransferGb: number;
}

/**
 * The defaults: the common worked example (provisioned, eventually consistent reads, 2 KB sessions,
 * 100,000 requests per minute, one region) and us-east-1 standard-table-class prices. Replicated
 * write units cost the same as single-region ones ("Understanding Amazon DynamoDB billing for global
 * tables", DynamoDB Developer Guide); $0.02/GB is the transfer from us-east-1 to most other regions.
 * @public
 */
export const COST_DEFAULTS: Readonly<CostInputs> = Object.freeze({
  sessionKb: 2,
  rpm: 100_000,
  newPerMonth: 1_000_000,
  updatesPerMonth: 2_000_000,
  stored: 8_000_000,
  touchAfter: 3600,
  sessionMinutes: 30,
  consistent: false,
  compressRatio: 1,
  regions: 1,
  billing: 'provisioned',
  burstWcu: 100,
  hoursPerMonth: 720,
  priceRcuHour: 0.00013,
  priceWcuHour: 0.00065,
  priceGbMonth: 0.25,
  priceReadMillion: 0.125,
  priceWriteMillion: 0.625,
  priceRwcuHour: 0.00065,
  priceReplicatedWriteMillion: 0.625,
  priceTransferGb: 0.02,
});

/** Reads or writes of one month and what they cost. @public */
export interface CostLine {
  perMonth: number;
  perSecond: number;
  /** Capacity (or request) units per operation. */
  unitsPerOp: number;
  /** Capacity units per second the load needs (perSecond x unitsPerOp). */
  unitsNeeded: number;
  /** Provisioned billing: whole units provisioned; `null` on demand. */
  provisioned: number | null;
  /** $ per month. */
  cost: number;
}

/**
 * The replicated writes of a global table (`regions` > 1): every replica applies every write of the
 * table, billed in its region as replicated write units (rWCU provisioned, rWRU on demand). A TTL
 * delete is free where it happens and a replicated write in each other replica.
 * @public
 */
export interface CostReplication {
  regions: number;
  /** The table's writes a month (new, updates, touches): each replica applies all of them. */
  writesPerMonth: number;
  /** TTL deletes a month, one per session (`newPerMonth`), each replicated to `regions - 1` replicas. */
  ttlDeletesPerMonth: number;
  /** Replicated write units per write or delete: `ceil(KB)`. */
  unitsPerOp: number;
  /** Replicated write units a month, all replicas together. */
  unitsPerMonth: number;
  /** rWCU one replica needs: its share of `unitsPerMonth`, per second. */
  unitsNeededPerReplica: number;
  /** Provisioned: whole rWCU in each replica (at least `burstWcu`); `null` on demand. */
  provisionedPerReplica: number | null;
  /** $ per month of replicated writes, all replicas. */
  writeCost: number;
  /** GB a month sent to other regions: every written item to each other replica. */
  transferGb: number;
  /** $ per month of cross-Region data transfer. */
  transferCost: number;
}

/** The result of `estimateCost`. @public */
export interface CostEstimate {
  inputs: CostInputs;
  /** Item size after compression, KB. */
  itemKb: number;
  reads: CostLine;
  /**
   * The table's writes as a single-region table bills them (WCU or WRU). With `regions` > 1,
   * `replication` bills them instead and `writes.cost` is not part of `total`.
   */
  writes: CostLine & { newPerMonth: number; updatesPerMonth: number; touchesPerMonth: number };
  /** `null` for a single-region table. */
  replication: CostReplication | null;
  /** `gb` in each replica; `cost` for all of them. */
  storage: { gb: number; replicas: number; cost: number };
  /** $ per month, unrounded. */
  total: number;
  /** $ per month, rounded to whole dollars. */
  totalRounded: number;
}

/** One "what changes" alternative. @public */
export interface CostVariant {
  label: string;
  /** The flag that selects it, e.g. `--consistent true`. */
  flag: string;
  estimate: CostEstimate;
  /** $ per month against the base estimate (unrounded). */
  delta: number;
}

// a hair below each boundary, so that 2.0000000001 KB still counts as 2 units
const epsilon = 1e-9;
/** Whole capacity units of a load: rounded up, but 2.0000000001 still counts as 2. */
export const units = (x: number) => Math.ceil(x - epsilon);

function check(inputs: CostInputs): void {
  for (const [field, value] of Object.entries(inputs)) {
    if (field === 'billing') {
      if (value !== 'provisioned' && value !== 'on-demand') {
        throw new InvalidOptionError(field, `expected provisioned or on-demand, got ${String(value)}`);
      }
    } else if (field === 'consistent') {
      if (typeof value !== 'boolean') throw new InvalidOptionError(field, 'expected true or false');
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new InvalidOptionError(field, `expected a number >= 0, got ${String(value)}`);
    }
  }
  for (const field of ['sessionKb', 'hoursPerMonth'] as const) {
    if (inputs[field] <= 0) throw new InvalidOptionError(field, 'expected a number > 0');
  }
  if (inputs.compressRatio <= 0 || inputs.compressRatio > 1) {
    throw new InvalidOptionError('compressRatio', `expected a ratio in (0, 1], got ${inputs.compressRatio}`);
  }
  if (!Number.isInteger(inputs.regions) || inputs.regions < 1) {
    throw new InvalidOptionError('regions', `expected a whole number >= 1, got ${inputs.regions}`);
  }
}

/** Touch writes per month: every unmodified read at `touchAfter: 0`, else one per window of use. */
function touchesOf(i: CostInputs, readsPerMonth: number): number {
  const unmodifiedReads = Math.max(0, readsPerMonth - i.newPerMonth - i.updatesPerMonth);
  if (i.touchAfter === 0) return unmodifiedReads;
  const perSession = Math.floor((i.sessionMinutes * 60) / i.touchAfter + epsilon);
  return Math.min(unmodifiedReads, i.newPerMonth * perSession);
}

function line(perMonth: number, unitsPerOp: number, i: CostInputs, prices: [number, number]): CostLine {
  const perSecond = perMonth / (i.hoursPerMonth * 3600);
  const unitsNeeded = perSecond * unitsPerOp;
  if (i.billing === 'on-demand') {
    const cost = ((perMonth * unitsPerOp) / 1e6) * prices[1];
    return { perMonth, perSecond, unitsPerOp, unitsNeeded, provisioned: null, cost };
  }
  const provisioned = units(unitsNeeded);
  return {
    perMonth,
    perSecond,
    unitsPerOp,
    unitsNeeded,
    provisioned,
    cost: provisioned * i.hoursPerMonth * prices[0],
  };
}

/** What the replicas of a global table add: replicated writes and cross-Region transfer. */
function replicationOf(i: CostInputs, writesPerMonth: number, itemKb: number): CostReplication | null {
  const n = i.regions;
  if (n === 1) return null;
  const unitsPerOp = units(itemKb);
  const ttlDeletesPerMonth = i.newPerMonth;
  const unitsPerMonth = (writesPerMonth * n + ttlDeletesPerMonth * (n - 1)) * unitsPerOp;
  const unitsNeededPerReplica = unitsPerMonth / n / (i.hoursPerMonth * 3600);
  // every replica is a table of its own: each keeps the burst floor
  const provisionedPerReplica =
    i.billing === 'provisioned' ? Math.max(units(unitsNeededPerReplica), units(i.burstWcu)) : null;
  const writeCost =
    provisionedPerReplica === null
      ? (unitsPerMonth / 1e6) * i.priceReplicatedWriteMillion
      : n * provisionedPerReplica * i.hoursPerMonth * i.priceRwcuHour;
  const transferGb = (writesPerMonth * itemKb * (n - 1)) / 1e6;
  return {
    regions: n,
    writesPerMonth,
    ttlDeletesPerMonth,
    unitsPerOp,
    unitsPerMonth,
    unitsNeededPerReplica,
    provisionedPerReplica,
    writeCost,
    transferGb,
    transferCost: transferGb * i.priceTransferGb,
  };
}

/**
 * Estimates the monthly cost of a session table.
 * Reads: `rpm` GetItems, each `ceil(KB / 4)` RCU, halved when eventually consistent. Writes: new
 * sessions, updates and touches, each `ceil(KB)` WCU (an expiry-only update is billed as the whole
 * item). Provisioned capacity is whole units of the average load; writes get at least `burstWcu`.
 * On demand, each unit is billed per request. Storage: KB x stored / 1,000,000 GB, in each replica.
 * A global table (`regions` > 1) bills every write in every replica as replicated write units, and
 * the TTL delete of each session in every replica but one, plus the written items sent to the other
 * regions; reads stay in their region, so their total is the same.
 * @param overrides - inputs that differ from `COST_DEFAULTS`
 * @throws InvalidOptionError naming the first bad input
 * @example
 * ```ts
 * estimateCost().totalRounded; // 129
 * ```
 * @public
 */
export function estimateCost(overrides: Partial<CostInputs> = {}): CostEstimate {
  const i: CostInputs = { ...COST_DEFAULTS, ...overrides };
  check(i);
  const itemKb = i.sessionKb * i.compressRatio;
  const rcuPerRead = units(itemKb / 4) * (i.consistent ? 1 : 0.5);
  const wcuPerWrite = units(itemKb);
  const readsPerMonth = i.rpm * 60 * i.hoursPerMonth;
  const reads = line(readsPerMonth, rcuPerRead, i, [i.priceRcuHour, i.priceReadMillion]);
  const touchesPerMonth = touchesOf(i, readsPerMonth);
  const writesPerMonth = i.newPerMonth + i.updatesPerMonth + touchesPerMonth;
  const w = line(writesPerMonth, wcuPerWrite, i, [i.priceWcuHour, i.priceWriteMillion]);
  if (w.provisioned !== null && w.provisioned < i.burstWcu) {
    w.provisioned = units(i.burstWcu);
    w.cost = w.provisioned * i.hoursPerMonth * i.priceWcuHour;
  }
  const replication = replicationOf(i, writesPerMonth, itemKb);
  const gb = (itemKb * i.stored) / 1e6;
  const storage = { gb, replicas: i.regions, cost: gb * i.regions * i.priceGbMonth };
  const writing = replication ? replication.writeCost + replication.transferCost : w.cost;
  const total = reads.cost + writing + storage.cost;
  return {
    inputs: i,
    itemKb,
    reads,
    writes: { ...w, newPerMonth: i.newPerMonth, updatesPerMonth: i.updatesPerMonth, touchesPerMonth },
    replication,
    storage,
    total,
    totalRounded: Math.round(total),
  };
}

/**
 * The alternatives users weigh, each against `inputs`: read consistency, touch throttling,
 * compression and billing mode (each flipped from its current setting).
 * @public
 */
export function costVariants(overrides: Partial<CostInputs> = {}): CostVariant[] {
  const base = estimateCost(overrides);
  const i = base.inputs;
  const options: [string, string, Partial<CostInputs>][] = [
    i.consistent
      ? ['Eventually consistent reads', '--consistent false', { consistent: false }]
      : ['Strong reads', '--consistent true', { consistent: true }],
    i.touchAfter > 0
      ? ['Touch on every read', '--touch-after 0', { touchAfter: 0 }]
      : ['Touch at most hourly', '--touch-after 3600', { touchAfter: 3600 }],
    i.compressRatio < 1
      ? ['No compression', '--compress-ratio 1', { compressRatio: 1 }]
      : ['Compression to 50%', '--compress-ratio 0.5', { compressRatio: 0.5 }],
    i.billing === 'provisioned'
      ? ['On-demand billing', '--billing on-demand', { billing: 'on-demand' }]
      : ['Provisioned billing', '--billing provisioned', { billing: 'provisioned' }],
  ];
  return options.map(([label, flag, change]) => {
    const estimate = estimateCost({ ...i, ...change });
    return { label, flag, estimate, delta: estimate.total - base.total };
  });
}
