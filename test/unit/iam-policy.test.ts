/** The policy `iam-policy` prints, from the options alone (what the store sends is checked in integration). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type PolicySpec, policiesFor, prefixPattern, storeActions, tableArn } from '../../cli/iam-policy.ts';

const spec: PolicySpec = {
  tableName: 'sessions',
  userIndex: undefined,
  prefix: 'session#',
  hashIds: true,
  plainIdFallback: true,
  tombstoneSeconds: 3600,
  region: 'eu-west-1',
  account: '123456789012',
  leadingKeys: false,
};
const actions = (s: PolicySpec) =>
  Object.values(storeActions(s)).flatMap((list) => list.map((a) => a.action));

test('DeleteItem is needed only to move plain-id sessions or to delete instead of a tombstone', () => {
  assert.ok(actions(spec).includes('DeleteItem'));
  assert.ok(!actions({ ...spec, plainIdFallback: false }).includes('DeleteItem'));
  assert.ok(!actions({ ...spec, hashIds: false }).includes('DeleteItem'));
  assert.ok(actions({ ...spec, hashIds: false, tombstoneSeconds: 0 }).includes('DeleteItem'));
});

test('per-user operations add BatchGetItem on the table and Query on the index only', () => {
  const { app } = policiesFor({ ...spec, userIndex: 'by-user', leadingKeys: true });
  assert.deepEqual(
    app.Statement.map((s) => [s.Resource, s.Action.filter((a) => /Query|BatchGet/.test(a))]),
    [
      ['arn:aws:dynamodb:eu-west-1:123456789012:table/sessions', ['dynamodb:BatchGetItem']],
      ['arn:aws:dynamodb:eu-west-1:123456789012:table/sessions/index/by-user', ['dynamodb:Query']],
    ],
  );
  assert.equal(app.Statement[1]?.Condition, undefined, 'LeadingKeys would refuse a Query by user id');
  assert.ok(!actions(spec).includes('Query'));
});

test("the LeadingKeys pattern takes the prefix's own wildcards literally", () => {
  assert.equal(prefixPattern('session#'), 'session#*');
  assert.equal(prefixPattern('a*b?c$'), `a\${*}b\${?}c\${$}*`);
});

test('ARNs name the partition of the region, and * for what is not given', () => {
  assert.equal(
    tableArn({ ...spec, region: 'cn-north-1' }),
    'arn:aws-cn:dynamodb:cn-north-1:123456789012:table/sessions',
  );
  assert.equal(tableArn({ ...spec, region: 'us-gov-west-1' }).split(':')[1], 'aws-us-gov');
  assert.equal(
    tableArn({ ...spec, region: undefined, account: undefined }),
    'arn:aws:dynamodb:*:*:table/sessions',
  );
});
