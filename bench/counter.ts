/**
 * Counts the DynamoDB commands a client sends, by operation, and sums the capacity units DynamoDB
 * reports for them: the middleware asks for `ReturnConsumedCapacity: 'TOTAL'` on every item command
 * of every store alike. It also estimates the units at the client from item sizes, to check what
 * DynamoDB (Local) reports.
 */
import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** Counters of one operation. */
export interface OperationCount {
  calls: number;
  /**
   * Calls that failed. A failed condition (`ConditionalCheckFailedException`) is DynamoDB's answer to
   * a conditional write, not a failure: it is not counted, as `engine.stats()` does not count it.
   */
  errors: number;
  /** Read units DynamoDB reported. */
  rcu: number;
  /** Write units DynamoDB reported. */
  wcu: number;
  /** Units estimated at the client from item sizes (GetItem and PutItem only; -1 when unknown). */
  estimated: number;
}

/** What `engine.stats()` returns, as far as the counting needs it. */
interface EngineStats {
  operations: Record<string, { calls: number; errors: number; rcu: number; wcu: number }>;
}

const readOps = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);
const itemOps = new Set(['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'Query']);

// lib-dynamodb commands (GetCommand...) are named after the document client's methods
const aliases: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchWrite: 'BatchWriteItem',
  BatchGet: 'BatchGetItem',
};

/** `GetItem` for `GetItemCommand` (and lib-dynamodb's `GetCommand`). */
export function operationOf(commandName: unknown): string {
  const name = String(commandName).replace(/Command$/, '');
  return aliases[name] ?? name;
}

/** DynamoDB's size of an attribute value, by its documented rules. */
export function valueSize(av: AttributeValue): number {
  if (av.S !== undefined) return Buffer.byteLength(av.S);
  if (av.N !== undefined)
    return 1 + Math.ceil(av.N.replace(/^-|\.|e.*$/gi, '').replace(/^0+/, '').length / 2);
  if (av.B !== undefined) return av.B.length;
  if (av.BOOL !== undefined || av.NULL !== undefined) return 1;
  if (av.L !== undefined) return 3 + av.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (av.M !== undefined) return 3 + itemSize(av.M) + Object.keys(av.M).length;
  if (av.SS !== undefined) return av.SS.reduce((sum, s) => sum + Buffer.byteLength(s), 0);
  return 0;
}

/** DynamoDB's size of an item: attribute names plus values. */
export function itemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function isAttributeMap(value: unknown): value is Record<string, AttributeValue> {
  if (typeof value !== 'object' || value === null) return false;
  const first = Object.values(value)[0];
  return typeof first === 'object' && first !== null && Object.keys(first).length === 1;
}

function estimate(op: string, input: Record<string, unknown>, output: Record<string, unknown>): number {
  if (op === 'GetItem') {
    const item = output.Item;
    const size = isAttributeMap(item) ? itemSize(item) : 0;
    return Math.max(1, Math.ceil(size / 4096)) * (input.ConsistentRead === true ? 1 : 0.5);
  }
  if (op === 'PutItem' && isAttributeMap(input.Item))
    return Math.max(1, Math.ceil(itemSize(input.Item) / 1024));
  return -1;
}

function units(consumed: unknown): number {
  if (!consumed) return 0;
  const list = (Array.isArray(consumed) ? consumed : [consumed]) as ConsumedCapacity[];
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

/** The counters of one client, reset at the start of every measured window. */
export class CommandCounter {
  ops: Record<string, OperationCount> = {};
  /** Whether to compute units from item sizes too (for the capacity check only: it costs CPU). */
  estimating = false;
  /** When set, item commands are answered here instead of being sent, and their input is kept. */
  capture: Record<string, unknown>[] | undefined;

  private followed: { stats: () => EngineStats; base: EngineStats['operations'] }[] = [];

  reset(): void {
    this.ops = {};
    for (const f of this.followed) f.base = f.stats().operations;
  }

  /**
   * Also counts an engine's calls from its own counters (it must have `capacity: true`): an engine
   * that makes its own client sends its item calls without the client's middleware stack.
   */
  follow(stats: () => EngineStats): void {
    this.followed.push({ stats, base: stats().operations });
  }

  /** The counts since the last reset: the middleware's and those of the engines followed. */
  counts(): Record<string, OperationCount> {
    const out: Record<string, OperationCount> = {};
    for (const [op, c] of Object.entries(this.ops)) out[op] = { ...c };
    for (const f of this.followed) {
      for (const [op, now] of Object.entries(f.stats().operations)) {
        const was = f.base[op] ?? { calls: 0, errors: 0, rcu: 0, wcu: 0 };
        if (now.calls === was.calls) continue;
        const c = out[op] ?? { calls: 0, errors: 0, rcu: 0, wcu: 0, estimated: -1 };
        c.calls += now.calls - was.calls;
        c.errors += now.errors - was.errors;
        c.rcu += now.rcu - was.rcu;
        c.wcu += now.wcu - was.wcu;
        c.estimated = -1;
        out[op] = c;
      }
    }
    return out;
  }

  private of(op: string): OperationCount {
    let c = this.ops[op];
    if (!c) {
      c = { calls: 0, errors: 0, rcu: 0, wcu: 0, estimated: 0 };
      this.ops[op] = c;
    }
    return c;
  }

  /** Counts one call of `op`: asks for its consumed capacity and adds what DynamoDB reports. */
  async observe<O>(
    op: string,
    input: Record<string, unknown>,
    send: (input: Record<string, unknown>) => Promise<O>,
  ): Promise<O> {
    if (!itemOps.has(op)) return send(input);
    const c = this.of(op);
    c.calls++;
    try {
      const result = await send({
        ...input,
        ReturnConsumedCapacity: input.ReturnConsumedCapacity ?? 'TOTAL',
      });
      const output = ((result as { output?: unknown }).output ?? result) as Record<string, unknown>;
      const n = units(output.ConsumedCapacity);
      if (readOps.has(op)) c.rcu += n;
      else c.wcu += n;
      return result;
    } catch (err) {
      if (!(err instanceof Error && err.name === 'ConditionalCheckFailedException')) c.errors++;
      throw err;
    }
  }

  /** Adds the counting middleware to a client (a DocumentClient made from it shares the stack). */
  attach(client: DynamoDBClient): void {
    // the command input is still the caller's (possibly a document-client input) at this step
    client.middlewareStack.add(
      (next, context) => (args) =>
        this.observe(operationOf(context.commandName), args.input as Record<string, unknown>, (input) =>
          next({ ...args, input }),
        ),
      { step: 'initialize', priority: 'high', name: 'benchCommandCounter' },
    );
    // after marshalling: low-level items, for the size estimate and for a document client's seeding
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = operationOf(context.commandName);
        const input = args.input as Record<string, unknown>;
        if (this.capture && op === 'PutItem') {
          // what would go on the wire: a document client's input is only marshalled by the serializer
          const body = (args.request as { body?: unknown } | undefined)?.body;
          this.capture.push(typeof body === 'string' ? (JSON.parse(body) as Record<string, unknown>) : input);
          return { output: { $metadata: {} }, response: {} } as Awaited<ReturnType<typeof next>>;
        }
        const result = await next(args);
        if (!this.estimating) return result;
        const e = estimate(op, input, result.output as unknown as Record<string, unknown>);
        const c = this.ops[op];
        if (c) c.estimated = e < 0 || c.estimated < 0 ? -1 : c.estimated + e;
        return result;
      },
      { step: 'build', priority: 'high', name: 'benchItemInspector' },
    );
  }
}
