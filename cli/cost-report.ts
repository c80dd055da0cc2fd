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

/** What each variant changes, in a few words. */
function variantDetail(v: CostVariant, base: CostEstimate): string {
  const e = v.estimate;
  const [ru, wu] = unitNames(e.inputs.billing);
  if (e.inputs.billing !== base.inputs.billing) {
    return e.reads.provisioned === null
      ? `per request: $${e.inputs.priceReadMillion}/M read units, $${e.inputs.priceWriteMillion}/M write units`
      : `${num(e.reads.provisioned)} RCU, ${num(e.writes.provisioned ?? 0)} WCU provisioned`;
  }
  if (e.inputs.consistent !== base.inputs.consistent) return `${num(e.reads.unitsPerOp, 1)} ${ru} per read`;
  if (e.inputs.touchAfter !== base.inputs.touchAfter) {
    const more = e.writes.perSecond - base.writes.perSecond;
    const capacity = e.writes.provisioned === null ? '' : `, ${num(e.writes.provisioned)} WCU provisioned`;
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
  const billing =
    i.billing === 'provisioned' ? `provisioned capacity, ${num(i.hoursPerMonth)} h/month` : 'on-demand';
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
    ...pad('Storage:', [
      `${num(i.stored)} sessions x ${num(e.itemKb, 2)} KB = ${num(e.storage.gb, 2)} GB x $${i.priceGbMonth} = ${usd(e.storage.cost)}`,
    ]),
    '',
    `Total: ${dollars(e.totalRounded)}/month`,
    `  ${usd(e.reads.cost)} reads + ${usd(e.writes.cost)} writes + ${usd(e.storage.cost)} storage = ${usd(e.total)}`,
  ];
  if (variants.length) out.push('', 'What changes:', ...variantLines(variants, e));
  return `${out.join('\n')}\n`;
}
