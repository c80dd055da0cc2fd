/**
 * The session table as code: an AWS CDK snippet (`TableV2`) and a Terraform `aws_dynamodb_table`.
 * Names are checked by the command line (A-Z a-z 0-9 _ . -), so they need no escaping here.
 */
import type { TemplateSpec } from './template.js';

/** A TypeScript snippet for aws-cdk-lib v2: a function that adds the table to a scope. @internal */
export function cdkSnippet(spec: TemplateSpec): string {
  const provisioned = spec.billing === 'provisioned';
  // TableV2 is a global table, whose provisioned writes must auto scale: min = max keeps create-table's
  const capacity = (indent: string) =>
    `${indent}readCapacity: Capacity.fixed(${spec.readCapacity}),\n` +
    `${indent}writeCapacity: Capacity.autoscaled({ minCapacity: ${spec.writeCapacity}, maxCapacity: ${spec.writeCapacity} }),\n`;
  const billing = provisioned
    ? `    billing: Billing.provisioned({\n${capacity('      ')}    }),\n`
    : '    billing: Billing.onDemand(),\n';
  const index = spec.userIndex
    ? '    globalSecondaryIndexes: [\n' +
      '      {\n' +
      `        indexName: '${spec.userIndex}',\n` +
      `        partitionKey: { name: '${spec.userIdAttribute}', type: AttributeType.STRING },\n` +
      '        // keys only: a touch (expiry update) then writes nothing to the index\n' +
      '        projectionType: ProjectionType.KEYS_ONLY,\n' +
      (provisioned ? capacity('        ') : '') +
      '      },\n' +
      '    ],\n'
    : '';
  const imports = ['AttributeType', 'Billing', ...(provisioned ? ['Capacity'] : [])];
  if (spec.userIndex) imports.push('ProjectionType');
  imports.push('TableV2');
  return [
    `// The session table of dynamodb-sessions, as \`create-table\` makes it (aws-cdk-lib v2).`,
    `// In a stack: sessionTable(this). Give the app's role the iam-policy statements, or table.grant(role, ...).`,
    `import { CfnOutput, RemovalPolicy } from 'aws-cdk-lib';`,
    `import { ${imports.join(', ')} } from 'aws-cdk-lib/aws-dynamodb';`,
    `import type { Construct } from 'constructs';`,
    '',
    `export function sessionTable(scope: Construct): TableV2 {`,
    `  const table = new TableV2(scope, 'SessionTable', {`,
    `    tableName: '${spec.tableName}',`,
    `    partitionKey: { name: '${spec.hashKey}', type: AttributeType.STRING },`,
    `${billing}    timeToLiveAttribute: '${spec.expiresAttribute}',`,
    `${index}    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: ${spec.pointInTimeRecovery} },`,
    `    deletionProtection: ${spec.deletionProtection},`,
    `    removalPolicy: RemovalPolicy.${spec.deletionProtection ? 'RETAIN' : 'DESTROY'},`,
    '  });',
    `  new CfnOutput(scope, 'SessionTableName', { value: table.tableName });`,
    `  new CfnOutput(scope, 'SessionTableArn', { value: table.tableArn });`,
    '  return table;',
    '}',
    '',
  ].join('\n');
}

/** A value: a string literal, a number, a boolean, or an expression (`{ ref }`) written as it is. */
type Value = string | number | boolean | { ref: string };
const hcl = (v: Value) => (typeof v === 'object' ? v.ref : typeof v === 'string' ? `"${v}"` : String(v));

/** `key = value` lines with the `=` aligned, as `terraform fmt` writes them. */
function attributes(indent: string, pairs: [string, Value][]): string[] {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${indent}${k.padEnd(width)} = ${hcl(v)}`);
}

function block(indent: string, name: string, pairs: [string, Value][]): string[] {
  return [`${indent}${name} {`, ...attributes(`${indent}  `, pairs), `${indent}}`];
}

/** A Terraform `aws_dynamodb_table` resource and outputs with its name and ARN. @internal */
export function terraform(spec: TemplateSpec): string {
  const provisioned = spec.billing === 'provisioned';
  const capacity: [string, number][] = provisioned
    ? [
        ['read_capacity', spec.readCapacity],
        ['write_capacity', spec.writeCapacity],
      ]
    : [];
  const attribute = (name: string) =>
    block('  ', 'attribute', [
      ['name', name],
      ['type', 'S'],
    ]);
  const lines = [
    `# The session table of dynamodb-sessions, as create-table makes it.`,
    `resource "aws_dynamodb_table" "sessions" {`,
    ...attributes('  ', [
      ['name', spec.tableName],
      ['billing_mode', provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST'],
      ['hash_key', spec.hashKey],
      ...capacity,
    ]),
    '',
    ...attribute(spec.hashKey),
  ];
  if (spec.userIndex) {
    lines.push(...attribute(spec.userIdAttribute), '');
    lines.push('  # keys only: a touch (expiry update) then writes nothing to the index');
    lines.push(
      ...block('  ', 'global_secondary_index', [
        ['name', spec.userIndex],
        ['hash_key', spec.userIdAttribute],
        ['projection_type', 'KEYS_ONLY'],
        ...capacity,
      ]),
    );
  }
  lines.push(
    '',
    ...block('  ', 'ttl', [
      ['attribute_name', spec.expiresAttribute],
      ['enabled', true],
    ]),
  );
  lines.push('', ...block('  ', 'point_in_time_recovery', [['enabled', spec.pointInTimeRecovery]]));
  lines.push('', ...attributes('  ', [['deletion_protection_enabled', spec.deletionProtection]]));
  // the sessions outlive a `terraform destroy` unless protection is turned off first
  if (spec.deletionProtection) lines.push('', ...block('  ', 'lifecycle', [['prevent_destroy', true]]));
  lines.push('}', '');
  const output = (name: string, attribute: string) =>
    block('', `output "${name}"`, [['value', { ref: `aws_dynamodb_table.sessions.${attribute}` }]]);
  lines.push(...output('session_table_name', 'name'), '', ...output('session_table_arn', 'arn'), '');
  return lines.join('\n');
}
