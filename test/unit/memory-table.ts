/**
 * An in-memory table behind the engine's transport interface, for the unit tier only: it evaluates
 * the condition, update and projection expressions the engine sends, so that the engine's decisions
 * (what to write, under which condition) can be tested without Java. It proves nothing about
 * DynamoDB itself: the integration tier runs the same paths on DynamoDB Local.
 */
import type { AttributeValue, ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { TableTransport } from '../../src/transport/types.ts';

type Item = Record<string, AttributeValue>;
type Names = Record<string, string> | undefined;
type Values = Record<string, AttributeValue> | undefined;

/** A DynamoDB-like error: `name` is the error type, as the SDK sets it. */
export class MemoryTableError extends Error {
  Item?: Item;
  constructor(name: string, message: string, item?: Item) {
    super(message);
    this.name = name;
    if (item) this.Item = item;
  }
}

const clone = <T>(value: T): T => structuredClone(value);

function sizeOfAv(av: AttributeValue): number {
  if (av.S !== undefined) return Buffer.byteLength(av.S);
  if (av.N !== undefined) return av.N.length;
  if (av.B !== undefined) return av.B.byteLength;
  if (av.BOOL !== undefined || av.NULL !== undefined) return 1;
  if (av.L !== undefined) return 3 + av.L.reduce((n, v) => n + 1 + sizeOfAv(v), 0);
  if (av.M !== undefined)
    return 3 + Object.entries(av.M).reduce((n, [k, v]) => n + 1 + Buffer.byteLength(k) + sizeOfAv(v), 0);
  return 1;
}

/** Bytes of an item, roughly as DynamoDB counts them (names + values). */
export function itemBytes(item: Item): number {
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + sizeOfAv(v), 0);
}

function compare(a: AttributeValue | undefined, b: AttributeValue | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  if (a.N !== undefined && b.N !== undefined) return Number(a.N) - Number(b.N);
  if (a.S !== undefined && b.S !== undefined) return a.S < b.S ? -1 : a.S > b.S ? 1 : 0;
  return JSON.stringify(a) === JSON.stringify(b) ? 0 : undefined;
}

/** A tokenizer and recursive-descent evaluator for the condition expressions the engine writes. */
class Condition {
  private readonly tokens: string[];
  private at = 0;
  constructor(
    text: string,
    private readonly item: Item | undefined,
    private readonly names: Names,
    private readonly values: Values,
  ) {
    this.tokens = text.match(/[#:][\w]+|[()]|<>|<=|>=|[=<>,]|\w+/g) ?? [];
  }

  evaluate(): boolean {
    const result = this.or();
    if (this.at !== this.tokens.length) throw new Error(`unparsed condition at "${this.tokens[this.at]}"`);
    return result;
  }

  private peek(): string | undefined {
    return this.tokens[this.at];
  }

  private take(expected?: string): string {
    const token = this.tokens[this.at++];
    if (token === undefined || (expected !== undefined && token.toUpperCase() !== expected))
      throw new Error(`expected ${expected ?? 'a token'}, got ${token}`);
    return token;
  }

  private or(): boolean {
    let result = this.and();
    while (this.peek()?.toUpperCase() === 'OR') {
      this.take();
      const right = this.and();
      result = result || right;
    }
    return result;
  }

  private and(): boolean {
    let result = this.factor();
    while (this.peek()?.toUpperCase() === 'AND') {
      this.take();
      const right = this.factor();
      result = result && right;
    }
    return result;
  }

  private factor(): boolean {
    const token = this.peek();
    if (token?.toUpperCase() === 'NOT') {
      this.take();
      return !this.factor();
    }
    if (token === '(') {
      this.take('(');
      const result = this.or();
      this.take(')');
      return result;
    }
    if (token === 'attribute_exists' || token === 'attribute_not_exists') {
      this.take();
      this.take('(');
      const value = this.operand();
      this.take(')');
      return token === 'attribute_exists' ? value !== undefined : value === undefined;
    }
    const left = this.operand();
    const op = this.take();
    const right = this.operand();
    const c = compare(left, right);
    if (c === undefined) return op === '<>' && left !== undefined;
    switch (op) {
      case '=':
        return c === 0;
      case '<>':
        return c !== 0;
      case '<':
        return c < 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '>=':
        return c >= 0;
    }
    throw new Error(`unknown comparator ${op}`);
  }

  private operand(): AttributeValue | undefined {
    const token = this.take();
    if (token.startsWith(':')) {
      const value = this.values?.[token];
      if (!value) throw new Error(`no value ${token}`);
      return value;
    }
    return this.item?.[resolveName(token, this.names)];
  }
}

function resolveName(token: string, names: Names): string {
  if (!token.startsWith('#')) return token;
  const name = names?.[token];
  if (name === undefined) throw new Error(`no name ${token}`);
  return name;
}

function operandValue(token: string, item: Item, names: Names, values: Values): AttributeValue {
  if (token.startsWith(':')) {
    const value = values?.[token];
    if (!value) throw new Error(`no value ${token}`);
    return value;
  }
  const value = item[resolveName(token, names)];
  if (!value) throw new Error(`attribute ${token} does not exist`);
  return value;
}

/** `SET #a = :v, #b = #b + :one REMOVE #c` */
function applyUpdate(item: Item, expression: string, names: Names, values: Values): void {
  const parts = expression.split(/\b(SET|REMOVE)\b/i).map((p) => p.trim());
  for (let i = 1; i < parts.length; i += 2) {
    const verb = (parts[i] as string).toUpperCase();
    const body = parts[i + 1] ?? '';
    for (const clause of body.split(',').map((c) => c.trim())) {
      if (verb === 'REMOVE') {
        delete item[resolveName(clause, names)];
        continue;
      }
      const m = /^([#\w]+)\s*=\s*([#:\w]+)(?:\s*([+-])\s*([#:\w]+))?$/.exec(clause);
      if (!m) throw new Error(`unsupported update clause "${clause}"`);
      const [, target = '', a = '', sign, b] = m;
      let value = operandValue(a, item, names, values);
      if (sign && b) {
        const other = operandValue(b, item, names, values);
        value = { N: String(Number(value.N) + (sign === '+' ? 1 : -1) * Number(other.N)) };
      }
      item[resolveName(target, names)] = clone(value);
    }
  }
}

function project(item: Item, expression: string | undefined, names: Names): Item {
  if (!expression) return clone(item);
  const out: Item = {};
  for (const token of expression.split(',').map((t) => t.trim())) {
    const name = resolveName(token, names);
    const value = item[name];
    if (value !== undefined) out[name] = clone(value);
  }
  return out;
}

/** One table's items by partition key; `hashKey` names the key attribute. */
export class MemoryTable {
  readonly items = new Map<string, Item>();
  /** Calls received, by operation name. */
  readonly calls: Record<string, number> = {};
  /** Called before each call: throw from it to inject a fault. */
  beforeCall: ((operation: string, input: unknown) => void) | undefined;
  /**
   * An index that lags (DynamoDB's global secondary indexes are eventually consistent): when set,
   * queries answer from these `[key, user id]` entries instead of the items.
   */
  staleIndex: [string, string][] | undefined;

  constructor(
    readonly tableName = 'sessions',
    readonly hashKey = 'id',
    readonly indexes: Record<string, string> = { 'uid-index': 'uid' },
  ) {}

  private count(operation: string, input: unknown): void {
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
    this.beforeCall?.(operation, input);
  }

  private keyOf(key: Item | undefined): string {
    const value = key?.[this.hashKey]?.S;
    if (value === undefined) throw new MemoryTableError('ValidationException', 'the key is missing');
    return value;
  }

  private checkTable(name: string | undefined): void {
    if (name !== this.tableName)
      throw new MemoryTableError('ResourceNotFoundException', `Requested resource not found: ${name}`);
  }

  private capacity(units: number, wanted: string | undefined): { ConsumedCapacity?: ConsumedCapacity } {
    return wanted === 'TOTAL'
      ? { ConsumedCapacity: { TableName: this.tableName, CapacityUnits: units } }
      : {};
  }

  private condition(
    input: {
      ConditionExpression?: string | undefined;
      ReturnValuesOnConditionCheckFailure?: string | undefined;
    },
    current: Item | undefined,
    names: Names,
    values: Values,
  ): void {
    if (!input.ConditionExpression) return;
    if (new Condition(input.ConditionExpression, current, names, values).evaluate()) return;
    const old =
      input.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && current ? clone(current) : undefined;
    throw new MemoryTableError('ConditionalCheckFailedException', 'The conditional request failed', old);
  }

  /** The engine's transport onto this table. */
  transport(): TableTransport {
    return {
      getItem: async (input) => {
        this.count('GetItem', input);
        this.checkTable(input.TableName);
        const item = this.items.get(this.keyOf(input.Key));
        const units = item ? Math.ceil(itemBytes(item) / 4096) * (input.ConsistentRead ? 1 : 0.5) : 0.5;
        return { ...(item && { Item: clone(item) }), ...this.capacity(units, input.ReturnConsumedCapacity) };
      },
      putItem: async (input) => {
        this.count('PutItem', input);
        this.checkTable(input.TableName);
        const item = input.Item as Item;
        const key = this.keyOf(item);
        this.condition(
          input,
          this.items.get(key),
          input.ExpressionAttributeNames,
          input.ExpressionAttributeValues,
        );
        this.items.set(key, clone(item));
        return this.capacity(Math.ceil(itemBytes(item) / 1024), input.ReturnConsumedCapacity);
      },
      updateItem: async (input) => {
        this.count('UpdateItem', input);
        this.checkTable(input.TableName);
        const key = this.keyOf(input.Key);
        const current = this.items.get(key);
        this.condition(input, current, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
        const next = current ? clone(current) : clone(input.Key as Item);
        applyUpdate(
          next,
          input.UpdateExpression ?? '',
          input.ExpressionAttributeNames,
          input.ExpressionAttributeValues,
        );
        this.items.set(key, next);
        return this.capacity(Math.ceil(itemBytes(next) / 1024), input.ReturnConsumedCapacity);
      },
      deleteItem: async (input) => {
        this.count('DeleteItem', input);
        this.checkTable(input.TableName);
        const key = this.keyOf(input.Key);
        this.condition(
          input,
          this.items.get(key),
          input.ExpressionAttributeNames,
          input.ExpressionAttributeValues,
        );
        this.items.delete(key);
        return this.capacity(1, input.ReturnConsumedCapacity);
      },
      query: async (input) => {
        this.count('Query', input);
        this.checkTable(input.TableName);
        const attribute = this.indexes[input.IndexName ?? ''];
        if (!attribute)
          throw new MemoryTableError('ValidationException', 'The table does not have the specified index');
        const wanted = input.ExpressionAttributeValues?.[':u']?.S;
        const start = input.ExclusiveStartKey?.[this.hashKey]?.S;
        const entries: [string, Item][] = this.staleIndex
          ? this.staleIndex.map(([key, uid]) => [
              key,
              { [this.hashKey]: { S: key }, [attribute]: { S: uid } },
            ])
          : [...this.items.entries()];
        const matches = entries
          .filter(([, item]) => item[attribute]?.S === wanted)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .filter(([key]) => start === undefined || key > start);
        const page = input.Limit ? matches.slice(0, input.Limit) : matches;
        const more = page.length < matches.length;
        const last = page[page.length - 1];
        return {
          Items: page.map(([, item]) =>
            project(item, input.ProjectionExpression, input.ExpressionAttributeNames),
          ),
          ...(more && last && { LastEvaluatedKey: { [this.hashKey]: { S: last[0] } } }),
        };
      },
      batchGetItem: async (input) => {
        this.count('BatchGetItem', input);
        const request = input.RequestItems?.[this.tableName];
        const found: Item[] = [];
        for (const key of request?.Keys ?? []) {
          const item = this.items.get(this.keyOf(key));
          if (item)
            found.push(project(item, request?.ProjectionExpression, request?.ExpressionAttributeNames));
        }
        return { Responses: { [this.tableName]: found }, UnprocessedKeys: {} };
      },
    };
  }
}
