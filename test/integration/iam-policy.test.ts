/**
 * `iam-policy` against what the store really sends: every command of a run through each path
 * (load, save, touch, destroy, sessions under plain ids, per-user operations) is recorded from the
 * client, and the printed policy must allow each of them and nothing else.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type EngineOptions, SessionEngine } from '../../src/index.ts';
import { cli } from './cli-run.ts';
import { freshTable, localClient } from './helpers.ts';

interface Sent {
  action: string;
  resource: string;
  /** The partition key values the call names (the index's for a Query). */
  keys: string[];
}

interface Statement {
  Action: string[];
  Resource: string;
  Condition?: Record<string, Record<string, string[]>>;
}

const account = '123456789012';
let client: DynamoDBClient;
let region: string;

before(async () => {
  client = await localClient();
  region = await client.config.region();
});
after(() => client.destroy());

/** A client that records every command the store sends through it, with the ARN it acts on. */
async function recordingClient(hashKey: string) {
  const recorder = await localClient();
  const sent: Sent[] = [];
  const arn = (table: string) => `arn:aws:dynamodb:${region}:${account}:table/${table}`;
  recorder.middlewareStack.add(
    (next, context) => (args) => {
      const action = String(context.commandName).replace(/Command$/, '');
      const input = args.input as Record<string, unknown>;
      const key = (item: unknown) => String((item as Record<string, { S?: string }>)[hashKey]?.S);
      if (action === 'BatchGetItem') {
        for (const [table, request] of Object.entries(input.RequestItems as Record<string, { Keys: [] }>))
          sent.push({ action, resource: arn(table), keys: request.Keys.map(key) });
      } else if (action === 'Query') {
        const values = input.ExpressionAttributeValues as Record<string, { S: string }>;
        const resource = `${arn(String(input.TableName))}/index/${String(input.IndexName)}`;
        sent.push({ action, resource, keys: Object.values(values).map((v) => v.S) });
      } else {
        const keys = [key(input.Key ?? input.Item)];
        sent.push({ action, resource: arn(String(input.TableName)), keys });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
  return { recorder, sent };
}

/** Whether a statement allows the call: its action, its resource, and a LeadingKeys condition if any. */
function allows(statement: Statement, call: Sent): boolean {
  if (!statement.Action.includes(`dynamodb:${call.action}`) || statement.Resource !== call.resource)
    return false;
  const patterns = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
  if (!patterns) return statement.Condition === undefined;
  const regex = (p: string) =>
    new RegExp(
      `^${p.replace(/\$\{([*?$])\}|[*?]|[.+^(){}|[\]\\$]/g, (m, literal: string | undefined) =>
        literal ? `\\${literal}` : m === '*' ? '.*' : m === '?' ? '.' : `\\${m}`,
      )}$`,
    );
  return call.keys.every((k) => patterns.some((p) => regex(p).test(k)));
}

type Data = { user?: string; n: number };

/** Every path the store takes with these options, as an app's requests would take them. */
async function exercise(engine: SessionEngine<Data>, options: EngineOptions<Data>, tableName: string) {
  const id = () => randomBytes(16).toString('base64url');
  const soon = () => Math.floor(Date.now() / 1000) + 3600;
  const a = id();
  let record = await engine.set(a, { n: 1 }, soon()); // a new session
  assert.ok(record);
  const loaded = await engine.load(a);
  assert.ok(loaded);
  record = await engine.set(a, { n: 2 }, soon(), { loaded }); // a change
  await engine.touch(a, soon() + 3600); // an expiry-only write: later by touchAfter
  await engine.destroy(a);
  if (options.hashIds !== false && options.plainIdFallback !== false) {
    // sessions under their plain id (earlier versions, other stores): one moves, one is destroyed
    for (const [plain, change] of [
      [id(), true],
      [id(), false],
    ] as const) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            [options.hashKey ?? 'id']: { S: `${options.prefix ?? 'session#'}${plain}` },
            sess: { M: { n: { N: '1' } } },
            expires: { N: String(soon()) },
          },
        }),
      );
      const old = await engine.load(plain);
      assert.deepEqual(old?.data, { n: 1 });
      if (change) await engine.set(plain, { n: 3 }, soon(), { loaded: old ?? undefined });
      else await engine.destroy(plain);
    }
  }
  if (options.userId) {
    const [mine, other] = [id(), id()];
    await engine.set(mine, { user: 'ada', n: 1 }, soon());
    await engine.set(other, { user: 'ada', n: 1 }, soon());
    assert.equal((await engine.listUserSessions('ada')).length, 2);
    assert.deepEqual(await engine.destroyUserSessions('ada', { except: mine }), { destroyed: 1 });
  }
}

async function check(flags: string[], options: EngineOptions<Data>, expected: string[]) {
  const tableName = await freshTable(client, {
    ...(options.hashKey && { hashKey: options.hashKey }),
    ...(options.userId && { userIndex: options.userIndex ?? true }),
  });
  const run = await cli(
    'iam-policy',
    '--table',
    tableName,
    '--region',
    region,
    '--account',
    account,
    ...flags,
    '--only',
    'app',
  );
  assert.equal(run.code, 0, run.stderr);
  const statements: Statement[] = JSON.parse(run.stdout).Statement;
  const { recorder, sent } = await recordingClient(options.hashKey ?? 'id');
  const engine = new SessionEngine<Data>({ ...options, tableName, client: recorder });
  try {
    await exercise(engine, options, tableName);
  } finally {
    recorder.destroy();
  }
  const sentActions = [...new Set(sent.map((s) => s.action))].sort();
  const allowed = [...new Set(statements.flatMap((s) => s.Action))].sort();
  assert.deepEqual(sentActions, [...expected].sort(), 'the run took every path');
  assert.deepEqual(
    allowed,
    sentActions.map((a) => `dynamodb:${a}`),
    'the policy allows exactly what was sent',
  );
  assert.deepEqual(
    statements.map((s) => s.Resource).sort(),
    [...new Set(sent.map((s) => s.resource))].sort(),
    'the policy names exactly the table and index used',
  );
  for (const call of sent)
    assert.ok(
      statements.some((s) => allows(s, call)),
      `${call.action} on ${call.resource} ${call.keys} allowed`,
    );
  // each statement holds only actions that were sent to its resource
  for (const s of statements)
    for (const action of s.Action)
      assert.ok(
        sent.some((c) => `dynamodb:${c.action}` === action && c.resource === s.Resource),
        `${action} used`,
      );
  return { statements, sent };
}

test('iam-policy with the default options allows exactly the calls of the store, on the table ARN', async () => {
  const { statements } = await check([], {}, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem']);
  assert.equal(statements.length, 1);
  assert.equal(statements[0]?.Condition, undefined);
});

test('iam-policy --user-index --leading-keys: per-user calls on the index ARN, item keys under the prefix', async () => {
  const options: EngineOptions<Data> = { prefix: 'app1#', userId: (s) => s.user };
  const flags = ['--user-index', '--leading-keys', '--prefix', 'app1#'];
  const { statements, sent } = await check(flags, options, [
    'GetItem',
    'PutItem',
    'UpdateItem',
    'DeleteItem',
    'BatchGetItem',
    'Query',
  ]);
  const items = statements.find((s) => s.Condition);
  assert.deepEqual(items?.Condition, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['app1#*'] } });
  assert.equal(statements.find((s) => s.Action.includes('dynamodb:Query'))?.Condition, undefined);
  // the condition does refuse: another app's key, and the Query's user id if it applied there
  const get = sent.find((c) => c.action === 'GetItem');
  assert.ok(get && items);
  assert.equal(allows(items, { ...get, keys: ['session#x'] }), false);
  const query = sent.find((c) => c.action === 'Query');
  assert.ok(query);
  assert.equal(allows({ ...items, Action: ['dynamodb:Query'], Resource: query.resource }, query), false);
});

test('iam-policy leaves DeleteItem out when the store never deletes, and keeps it for tombstoneSeconds 0', async () => {
  const noDelete = { userId: (s: Data) => s.user, plainIdFallback: false };
  await check(['--user-index', '--plain-id-fallback', 'false'], noDelete, [
    'GetItem',
    'PutItem',
    'UpdateItem',
    'BatchGetItem',
    'Query',
  ]);
  const deletes = { userId: (s: Data) => s.user, hashIds: false, tombstoneSeconds: 0, hashKey: 'sid' };
  const flags = ['--user-index', '--hash-ids', 'false', '--tombstone-seconds', '0', '--hash-key', 'sid'];
  await check(flags, deletes, ['GetItem', 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchGetItem', 'Query']);
});

test('iam-policy prints the CLI statement apart, and notes missing region and account', async () => {
  const run = await cli('iam-policy', '--table', 'sessions', '--user-index', '--json');
  assert.equal(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.deepEqual(out.cli.Statement[0].Action, [
    'dynamodb:CreateTable',
    'dynamodb:DescribeTable',
    'dynamodb:DescribeTimeToLive',
    'dynamodb:UpdateTimeToLive',
    'dynamodb:UpdateTable',
  ]);
  assert.equal(out.app.Statement[0].Resource, 'arn:aws:dynamodb:*:*:table/sessions');
  assert.equal(out.app.Statement[1].Resource, 'arn:aws:dynamodb:*:*:table/sessions/index/uid-index');
  assert.match(run.stderr, /no --region/);
  assert.match(run.stderr, /no --account/);
  const text = await cli('iam-policy', '--table', 'sessions', '--region', 'cn-north-1', '--account', account);
  assert.match(text.stdout, /^For the CLI, not the app/m);
  assert.match(text.stdout, /"arn:aws-cn:dynamodb:cn-north-1:123456789012:table\/sessions"/);
  assert.equal(text.stderr, '');
});

test('iam-policy refuses flags it cannot honour', async () => {
  for (const [flags, message] of [
    [['--leading-keys', '--prefix', ''], /--leading-keys needs a --prefix/],
    [['--account', '1234'], /--account: expected a 12-digit/],
    [['--region', 'Europe'], /--region: expected a region/],
    [['--hash-ids', 'yes'], /--hash-ids: expected true or false/],
    [['--only', 'both'], /--only: expected app or cli/],
  ] as const) {
    const run = await cli('iam-policy', '--table', 'sessions', ...flags);
    assert.equal(run.code, 2, run.stdout);
    assert.match(run.stderr, message);
  }
});
