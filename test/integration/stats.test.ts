import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type CapacityEvent,
  type EngineOptions,
  SessionEngine,
  StoreUnavailableError,
} from '../../src/index.ts';
import { downClient, freshTable, keyOf, localClient, optionsOf } from './helpers.ts';

const client = await localClient();
let tableName = '';
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

before(async () => {
  tableName = await freshTable(client);
});

function engine(options: EngineOptions = {}) {
  return new SessionEngine({ client, tableName, ...options });
}

/** A session of about `kb` KB of JSON, text and nested objects. */
function sessionOf(kb: number): Record<string, unknown> {
  const items = Array.from({ length: Math.ceil((kb * 1024) / 120) }, (_, i) => ({
    sku: `SKU-${1000 + i}`,
    name: `product ${i} in colour blue`,
    options: { size: 'M', colour: 'blue' },
    quantity: 1 + (i % 3),
  }));
  return { user: { id: 'u-1', name: 'Ada' }, cart: { items } };
}

async function rawItem(key: string): Promise<Record<string, AttributeValue>> {
  const out = await client.send(
    new GetItemCommand({ TableName: tableName, Key: { id: { S: key } }, ConsistentRead: true }),
  );
  assert.ok(out.Item, `item ${key} exists`);
  return out.Item;
}

/** Records the `ReturnConsumedCapacity` of every command a client sends. */
function watchCapacityInput(c: DynamoDBClient): (string | undefined)[] {
  const seen: (string | undefined)[] = [];
  c.middlewareStack.add(
    (next) => (args) => {
      seen.push((args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity);
      return next(args);
    },
    { step: 'initialize' },
  );
  return seen;
}

describe('consumed capacity', () => {
  test("stats() and onCapacity report DynamoDB's own ReturnConsumedCapacity figures", async () => {
    const events: CapacityEvent[] = [];
    const e = engine({ onCapacity: (event) => events.push(event) });
    assert.equal(optionsOf(e).capacity, true, 'onCapacity turns capacity on');
    const data = sessionOf(9);
    await e.set('measured', data, inAnHour(), { loaded: null });
    const loaded = await e.load('measured');
    await e.get('absent'); // an eventual miss, then one consistent read
    await e.set('measured', data, inAnHour() + 7200, { loaded }); // unchanged, touch due: an UpdateItem

    // the same calls sent directly, for DynamoDB's figures
    const item = await rawItem(keyOf('measured'));
    const rcc = { ReturnConsumedCapacity: 'TOTAL' } as const;
    const put = await client.send(
      new PutItemCommand({ TableName: tableName, Item: { ...item, id: { S: 'session#copy' } }, ...rcc }),
    );
    const get = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { id: { S: keyOf('measured') } }, ...rcc }),
    );
    const missKey = { id: { S: 'session#absent' } };
    const miss = await client.send(new GetItemCommand({ TableName: tableName, Key: missKey, ...rcc }));
    const missStrong = await client.send(
      new GetItemCommand({ TableName: tableName, Key: missKey, ConsistentRead: true, ...rcc }),
    );
    const update = await client.send(
      new UpdateItemCommand({
        TableName: tableName,
        Key: { id: { S: 'session#copy' } },
        UpdateExpression: 'SET expires = :e',
        ExpressionAttributeValues: { ':e': { N: String(inAnHour() + 7200) } },
        ...rcc,
      }),
    );
    const units = (out: { ConsumedCapacity?: { CapacityUnits?: number | undefined } | undefined }) =>
      out.ConsumedCapacity?.CapacityUnits;
    assert.ok((units(put) ?? 0) >= 5, `a 9 KB session is several WCU, got ${units(put)}`);
    const s = e.stats();
    assert.deepEqual(s.operations.PutItem, { calls: 1, errors: 0, throttles: 0, rcu: 0, wcu: units(put) });
    assert.deepEqual(s.operations.UpdateItem, {
      calls: 1,
      errors: 0,
      throttles: 0,
      rcu: 0,
      wcu: units(update),
    });
    const reads = [units(get), units(miss), units(missStrong)].map(Number);
    assert.deepEqual(s.operations.GetItem, {
      calls: 3,
      errors: 0,
      throttles: 0,
      rcu: reads.reduce((a, b) => a + b),
      wcu: 0,
    });
    assert.deepEqual(
      events.map((ev) => [ev.operation, ev.rcu, ev.wcu]),
      [
        ['PutItem', 0, units(put)],
        ['GetItem', reads[0], 0],
        ['GetItem', reads[1], 0],
        ['GetItem', reads[2], 0],
        ['UpdateItem', 0, units(update)],
      ],
    );
    assert.deepEqual(s.total, {
      calls: 5,
      errors: 0,
      throttles: 0,
      rcu: s.operations.GetItem?.rcu,
      wcu: Number(units(put)) + Number(units(update)),
    });
  });

  test('without capacity, nothing asks DynamoDB for it: calls are counted, RCU and WCU stay 0', async () => {
    const c = await localClient();
    const asked = watchCapacityInput(c);
    const e = new SessionEngine({ client: c, tableName });
    assert.equal(optionsOf(e).capacity, false);
    await e.set('quiet', { a: 1 }, inAnHour(), { loaded: null });
    await e.get('quiet');
    await e.destroy('quiet');
    assert.deepEqual(asked, [undefined, undefined, undefined]);
    assert.deepEqual(e.stats().total, { calls: 3, errors: 0, throttles: 0, rcu: 0, wcu: 0 });
    const loud = watchCapacityInput(c);
    await new SessionEngine({ client: c, tableName, capacity: true }).get('quiet');
    assert.equal(loud.at(-1), 'TOTAL');
  });
});

describe('calls and errors', () => {
  test('failed calls are counted as errors; a missing table and a stopped DynamoDB alike', async () => {
    const missing = engine({ tableName: 'no_such_table' });
    await assert.rejects(missing.get('x'), StoreUnavailableError);
    await assert.rejects(missing.set('x', { a: 1 }, inAnHour(), { loaded: null }), StoreUnavailableError);
    assert.deepEqual(missing.stats().operations, {
      GetItem: { calls: 1, errors: 1, throttles: 0, rcu: 0, wcu: 0 },
      PutItem: { calls: 1, errors: 1, throttles: 0, rcu: 0, wcu: 0 },
    });
    const down = new SessionEngine({ client: await downClient(), tableName, capacity: true });
    await assert.rejects(down.get('x'), StoreUnavailableError);
    assert.deepEqual(down.stats().total, { calls: 1, errors: 1, throttles: 0, rcu: 0, wcu: 0 });
  });

  test('throttled calls are counted apart (throttling injected in the client)', async () => {
    const c = await localClient({ maxAttempts: 1 });
    let throttle = 2;
    c.middlewareStack.add(
      (next) => async (args) => {
        if (throttle-- > 0) {
          throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
            name: 'ProvisionedThroughputExceededException',
          });
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const e = new SessionEngine({ client: c, tableName });
    await assert.rejects(e.set('busy', { a: 1 }, inAnHour(), { loaded: null }), (err: unknown) => {
      return err instanceof StoreUnavailableError && err.throttled;
    });
    await assert.rejects(e.get('busy'), StoreUnavailableError);
    await e.set('busy', { a: 1 }, inAnHour(), { loaded: null });
    assert.deepEqual(await e.get('busy'), { a: 1 });
    assert.deepEqual(e.stats().operations, {
      PutItem: { calls: 2, errors: 1, throttles: 1, rcu: 0, wcu: 0 },
      GetItem: { calls: 2, errors: 1, throttles: 1, rcu: 0, wcu: 0 },
    });
  });

  test('a save refused because the session was destroyed is a call, not an error, counted as skipped', async () => {
    const e = engine();
    await e.set('gone', { a: 1 }, inAnHour(), { loaded: null });
    const loaded = await e.load('gone');
    await engine().destroy('gone');
    await e.set('gone', { a: 2 }, inAnHour(), { loaded });
    assert.deepEqual(e.stats().operations.PutItem, { calls: 2, errors: 0, throttles: 0, rcu: 0, wcu: 0 });
    assert.equal(e.stats().skipped, 1);
    assert.equal(await e.get('gone'), null);
  });
});

describe('cost of capacity telemetry', () => {
  test('capacity: true records RCU on every get; its CPU cost is measured', async (t) => {
    await engine().set('bench', sessionOf(2), inAnHour());
    const rounds = 4;
    const perRound = 50;
    const cpu = { off: 0, on: 0 };
    const wall = { off: 0, on: 0 };
    const engines = { off: engine(), on: engine({ capacity: true }) };
    for (let r = 0; r < rounds; r++) {
      for (const mode of ['off', 'on'] as const) {
        const e = engines[mode];
        const start = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < perRound; i++) await e.get('bench');
        wall[mode] += performance.now() - t0;
        const used = process.cpuUsage(start);
        cpu[mode] += used.user + used.system;
      }
    }
    const n = rounds * perRound;
    assert.deepEqual(engines.off.stats().total, { calls: n, errors: 0, throttles: 0, rcu: 0, wcu: 0 });
    assert.deepEqual(engines.on.stats().total, { calls: n, errors: 0, throttles: 0, rcu: n * 0.5, wcu: 0 });
    t.diagnostic(
      `${n} gets each: CPU ${(cpu.off / n).toFixed(0)} µs/get without capacity, ${(cpu.on / n).toFixed(0)} µs/get with; ` +
        `wall ${((wall.off * 1000) / n).toFixed(0)} vs ${((wall.on * 1000) / n).toFixed(0)} µs/get`,
    );
  });
});
