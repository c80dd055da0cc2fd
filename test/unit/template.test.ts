/** The YAML `template` writes itself: read back as CloudFormation's YAML 1.1 parser reads it. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from 'yaml';
import { cloudFormation, type TemplateSpec, templateText } from '../../cli/template.ts';

const spec: TemplateSpec = {
  tableName: 'sessions',
  hashKey: 'id',
  expiresAttribute: 'expires',
  userIndex: 'uid-index',
  userIdAttribute: 'uid',
  billing: 'provisioned',
  readCapacity: 3,
  writeCapacity: 2,
  pointInTimeRecovery: true,
  deletionProtection: false,
};

test('names YAML 1.1 would read as numbers, booleans or null stay strings', () => {
  for (const name of [
    'yes',
    'No',
    'on',
    'OFF',
    'null',
    'true',
    '0123',
    '1e5',
    '2010-09-09',
    '.inf',
    'a.b-c_d',
  ]) {
    const template = cloudFormation({ ...spec, tableName: name, hashKey: name, userIdAttribute: `${name}x` });
    const text = templateText(template, 'yaml');
    for (const schema of ['yaml-1.1', 'core'] as const) {
      assert.deepEqual(parse(text, { schema }), template, `${name} with the ${schema} schema`);
    }
  }
});

test('the YAML has no anchors or aliases, which CloudFormation does not take', () => {
  const text = templateText(cloudFormation(spec), 'yaml');
  assert.doesNotMatch(text, /[&*]\w/);
  // table and index have the same throughput, each written out
  assert.equal(text.match(/WriteCapacityUnits: 2/g)?.length, 2);
});
