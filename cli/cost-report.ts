/** The text report of `dynamodb-sessions cost`: the breakdown of an estimate and what changes it. */
import { type CostBilling, type CostEstimate, type CostVariant, units } from './cost-model.js';

const num = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
const usd = (x: number) =>
  `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const dollars = (x: number) => `${x < 0 ? '-' : ''}$${num(Math.abs(Math.round(x)))}`;
const signed = (x: number) => (Math.round(x) >= 0 ? `+${dollars(x)}` : dollars(x));

function readLines(e: CostEstimate): string[] {
  const { reads: r, inputs: i } = e;
  const head = `${num(i.rpm)} requests/min = ${num(r.perSecond, 1)} reads/s`;
  if (r.provisioned === null) {
    const ru = (r.perMonth * r.unitsPerOp) / 1e6;
    return [
      `${head} = ${num(r.perMonth)} reads/month x ${num(r.unitsPerOp, 1)} RRU`,
      `${num(ru, 2)} M read units x $${i.priceReadMillion}/M = ${usd(r.cost)}`,
    ];
  }
  return [
    `${head} x ${num(r.unitsPerOp, 1)} RCU = ${num(r.unitsNeeded, 1)} RCU -> ${num(r.provisioned)} RCU provisioned`,
    `${num(r.provisioned)} RCU x ${num(i.hoursPerMonth)} h x $${i.priceRcuHour} = ${usd(r.cost)}`,
  ];
}

function writeLines(e: CostEstimate): string[] {
  const { writes: w, inputs: i } = e;
  const touches = i.touchAfter === 0 ? 'touches (one per unmodified read)' : 'touches';
  const head = [
    `${num(w.newPerMonth)} new + ${num(w.updatesPerMonth)} updates + ${num(w.touchesPerMonth)} ${touches}`,
    `= ${num(w.perMonth)} writes/month = ${num(w.perSecond, 2)} writes/s`,
  ];
  // a global table bills its writes as replicated writes instead
  if (e.replication) return head;
  if (w.provisioned === null) {
    const wu = (w.perMonth * w.unitsPerOp) / 1e6;
    return [
      ...head,
      `${num(w.perMonth)} writes x ${num(w.unitsPerOp)} WRU = ${num(wu, 2)} M write units x $${i.priceWriteMillion}/M = ${usd(w.cost)}`,
    ];
  }
  const burst = w.provisioned > units(w.unitsNeeded) ? ` (at least --burst-wcu ${num(i.burstWcu)})` : '';
  return [
    ...head,
    `${num(w.perSecond, 2)} writes/s x ${num(w.unitsPerOp)} WCU = ${num(w.unitsNeeded, 1)} WCU -> ${num(w.provisioned)} WCU provisioned${burst}`,
    `${num(w.provisioned)} WCU x ${num(i.hoursPerMonth)} h x $${i.priceWcuHour} = ${usd(w.cost)}`,
  ];
}

/** A global table's replicated writes and transfer, worked out. */
function replicaLines(e: CostEstimate): string[] {
  const r = e.replication;
  if (!r) return [];
  const i = e.inputs;
  const others = r.regions - 1;
  const where = others === 1 ? 'the other region' : `${num(others)} other regions`;
  const unit = r.provisionedPerReplica === null ? 'rWRU' : 'rWCU';
  const lines = [
    `${r.regions} regions: every replica applies every write, and the TTL delete of each session in ${where}`,
    `${num(r.writesPerMonth)} writes x ${num(r.unitsPerOp)} ${unit} x ${r.regions} replicas + ` +
      `${num(r.ttlDeletesPerMonth)} TTL deletes x ${num(r.unitsPerOp)} ${unit} x ${others} ` +
      `= ${num(r.unitsPerMonth / 1e6, 2)} M replicated write units/month`,
  ];
  if (r.provisionedPerReplica === null) {
    lines.push(
      `Replicated writes: ${num(r.unitsPerMonth / 1e6, 2)} M rWRU x $${i.priceReplicatedWriteMillion}/M = ${usd(r.writeCost)}`,
    );
  } else {
    const floor = r.provisionedPerReplica > units(r.unitsNeededPerReplica);
    lines.push(
      `= ${num(r.unitsNeededPerReplica, 1)} rWCU per replica -> ${num(r.provisionedPerReplica)} rWCU provisioned ` +
        `per replica${floor ? ` (at least --burst-wcu ${num(i.burstWcu)})` : ''}`,
      `Replicated writes: ${r.regions} replicas x ${num(r.provisionedPerReplica)} rWCU x ${num(i.hoursPerMonth)} h ` +
        `x $${i.priceRwcuHour} = ${usd(r.writeCost)}`,
    );
  }
  lines.push(
    `Transfer: ${num(r.writesPerMonth)} writes x ${num(e.itemKb, 2)} KB to ${where} = ` +
      `${num(r.transferGb, 2)} GB x $${i.priceTransferGb} = ${usd(r.transferCost)}`,
  );
  return lines;
}

/** Provisioned write capacity: WCU, or rWCU in each replica of a global table. */
function writeCapacity(e: CostEstimate): string {
  const perReplica = e.replication?.provisionedPerReplica;
  return perReplica == null ? `${num(e.writes.provisioned ?? 0)} WCU` : `${num(perReplica)} rWCU per replica`;
}

/** What each variant changes, in a few words. */
function variantDetail(v: CostVariant, base: CostEstimate): string {
  const e = v.estimate;
  const [ru, wu] = unitNames(e.inputs.billing);
  if (e.inputs.billing !== base.inputs.billing) {
    const writePrice = e.replication ? e.inputs.priceReplicatedWriteMillion : e.inputs.priceWriteMillion;
    return e.reads.provisioned === null
      ? `per request: $${e.inputs.priceReadMillion}/M read units, $${writePrice}/M ${e.replication ? 'replicated ' : ''}write units`
      : `${num(e.reads.provisioned)} RCU, ${writeCapacity(e)} provisioned`;
  }
  if (e.inputs.consistent !== base.inputs.consistent) return `${num(e.reads.unitsPerOp, 1)} ${ru} per read`;
  if (e.inputs.touchAfter !== base.inputs.touchAfter) {
    const more = e.writes.perSecond - base.writes.perSecond;
    const capacity = e.writes.provisioned === null ? '' : `, ${writeCapacity(e)} provisioned`;
    return `${more >= 0 ? '+' : ''}${num(more, 1)} writes/s${capacity}`;
  }
  return `${num(e.itemKb, 2)} KB items: ${num(e.writes.unitsPerOp)} ${wu} per write, ${num(e.storage.gb, 2)} GB stored`;
}

/** One aligned row per variant: label, flag, total, difference, detail. */
function variantLines(variants: CostVariant[], base: CostEstimate): string[] {
  const rows = variants.map((v) => [
    v.label,
    v.flag,
    `${dollars(v.estimate.total)}/month`,
    signed(v.delta),
    variantDetail(v, base),
  ]);
  const width = (n: number) => Math.max(...rows.map((r) => r[n]?.length ?? 0));
  return rows.map(
    ([label = '', flag = '', total = '', delta = '', detail = '']) =>
      `  ${label.padEnd(width(0))}  ${flag.padEnd(width(1))}  ${total.padStart(width(2))}  ` +
      `${delta.padStart(width(3))}  ${detail}`,
  );
}

function writeSum(e: CostEstimate): string {
  const r = e.replication;
  if (!r) return `${usd(e.writes.cost)} writes`;
  return `${usd(r.writeCost)} replicated writes + ${usd(r.transferCost)} transfer`;
}

function unitNames(billing: CostBilling): [string, string] {
  return billing === 'provisioned' ? ['RCU', 'WCU'] : ['RRU', 'WRU'];
}

/**
 * A human-readable breakdown, ending with `Total: $N/month` and a "what changes" section.
 * @public
 */
export function formatCost(e: CostEstimate, variants: CostVariant[] = []): string {
  const i = e.inputs;
  const reads = i.consistent ? 'strongly consistent reads' : 'eventually consistent reads';
  const global = e.replication ? `, global table in ${i.regions} regions` : '';
  const billing =
    (i.billing === 'provisioned' ? `provisioned capacity, ${num(i.hoursPerMonth)} h/month` : 'on-demand') +
    global;
  const [ru, wu] = unitNames(i.billing);
  const compressed = i.compressRatio < 1 ? ` (${num(i.sessionKb, 2)} KB x ${i.compressRatio})` : '';
  const pad = (label: string, lines: string[]) =>
    lines.map((l, n) => `  ${(n === 0 ? label : '').padEnd(9)} ${l}`);
  const out = [
    `DynamoDB session table cost (${billing})`,
    ...pad('Items:', [
      `${num(e.itemKb, 2)} KB${compressed}, ${reads}: ${num(e.reads.unitsPerOp, 1)} ${ru} per read, ${num(e.writes.unitsPerOp)} ${wu} per write`,
    ]),
    ...pad('Reads:', readLines(e)),
    ...pad('Writes:', writeLines(e)),
    ...pad('Replicas:', replicaLines(e)),
    ...pad('Storage:', [
      `${num(i.stored)} sessions x ${num(e.itemKb, 2)} KB = ${num(e.storage.gb, 2)} GB${e.replication ? ` x ${i.regions} replicas` : ''} x $${i.priceGbMonth} = ${usd(e.storage.cost)}`,
    ]),
    '',
    `Total: ${dollars(e.totalRounded)}/month`,
    `  ${usd(e.reads.cost)} reads + ${writeSum(e)} + ${usd(e.storage.cost)} storage = ${usd(e.total)}`,
  ];
  if (variants.length) out.push('', 'What changes:', ...variantLines(variants, e));
  return `${out.join('\n')}\n`;
}
