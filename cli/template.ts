/**
 * `template`: the session table as `create-table` makes it (on-demand, TTL on the expiry
 * attribute, the keys-only user index when asked), with point-in-time recovery and deletion
 * protection, for CloudFormation, SAM, the AWS CDK and Terraform.
 */
/** The table to declare. @internal */
export interface TemplateSpec {
  tableName: string;
  hashKey: string;
  expiresAttribute: string;
  /** The user index; `undefined` for none. */
  userIndex: string | undefined;
  userIdAttribute: string;
  billing: 'on-demand' | 'provisioned';
  /** Provisioned capacity units of the table and of its index. */
  readCapacity: number;
  writeCapacity: number;
  pointInTimeRecovery: boolean;
  deletionProtection: boolean;
}

/** The formats `template` prints. @internal */
export const TEMPLATE_FORMATS = ['cloudformation', 'sam', 'cdk', 'terraform'] as const;
/** @internal */
export type TemplateFormat = (typeof TEMPLATE_FORMATS)[number];

/** The logical id of the table in CloudFormation and SAM templates. @internal */
export const LOGICAL_ID = 'SessionTable';

/** The `AWS::DynamoDB::Table` properties: what `create-table` sends, then TTL, recovery and protection. @internal */
export function tableProperties(spec: TemplateSpec): Record<string, unknown> {
  const provisioned = spec.billing === 'provisioned';
  const throughput = provisioned && {
    ProvisionedThroughput: { ReadCapacityUnits: spec.readCapacity, WriteCapacityUnits: spec.writeCapacity },
  };
  const attribute = (name: string) => ({ AttributeName: name, AttributeType: 'S' });
  const hash = (name: string) => [{ AttributeName: name, KeyType: 'HASH' }];
  return {
    TableName: spec.tableName,
    BillingMode: provisioned ? 'PROVISIONED' : 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      attribute(spec.hashKey),
      ...(spec.userIndex ? [attribute(spec.userIdAttribute)] : []),
    ],
    KeySchema: hash(spec.hashKey),
    ...throughput,
    ...(spec.userIndex && {
      GlobalSecondaryIndexes: [
        {
          IndexName: spec.userIndex,
          KeySchema: hash(spec.userIdAttribute),
          // keys only: a touch (expiry update) then writes nothing to the index
          Projection: { ProjectionType: 'KEYS_ONLY' },
          ...throughput,
        },
      ],
    }),
    TimeToLiveSpecification: { AttributeName: spec.expiresAttribute, Enabled: true },
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: spec.pointInTimeRecovery },
    DeletionProtectionEnabled: spec.deletionProtection,
  };
}

/** The template as an object: one table, its name and ARN as outputs. `sam` adds SAM's transform. @internal */
export function cloudFormation(spec: TemplateSpec, sam = false): Record<string, unknown> {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    ...(sam && { Transform: 'AWS::Serverless-2016-10-31' }),
    Description: 'The session table of dynamodb-sessions, as create-table makes it',
    Resources: {
      [LOGICAL_ID]: {
        Type: 'AWS::DynamoDB::Table',
        // the sessions outlive the stack: deleting or replacing it keeps the table
        ...(spec.deletionProtection && { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' }),
        Properties: tableProperties(spec),
      },
    },
    Outputs: {
      SessionTableName: {
        Description: 'The store option tableName',
        Value: { Ref: LOGICAL_ID },
      },
      SessionTableArn: {
        Description: 'The Resource of the iam-policy statements',
        Value: { 'Fn::GetAtt': [LOGICAL_ID, 'Arn'] },
      },
    },
  };
}

/** Written plain in YAML: names, types, intrinsic function keys (`Fn::GetAtt`), words, spaces and commas. */
const plainScalar = /^[A-Za-z]([\w ,./-]*[\w./-])?(::[\w./-]+)*$/;
/** Plain words YAML 1.1 parsers read as booleans or null. */
const reservedWord = /^(y|n|yes|no|on|off|true|false|null)$/i;

/** A string plain when it is safe, else double-quoted (a JSON string is a YAML one); numbers and booleans as they are. */
function yamlScalar(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  return plainScalar.test(value) && !reservedWord.test(value) ? value : JSON.stringify(value);
}

const isCollection = (value: unknown): value is object => typeof value === 'object' && value !== null;

/** Block-style YAML lines of a value made of objects, arrays, strings, numbers and booleans. */
function yamlLines(value: object, indent: string): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item: unknown) => {
      if (!isCollection(item)) return [`${indent}- ${yamlScalar(item)}`];
      // the item's first line goes after the dash, the rest under it
      const [first = '', ...rest] = yamlLines(item, `${indent}  `);
      return [`${indent}- ${first.trimStart()}`, ...rest];
    });
  }
  return Object.entries(value).flatMap(([key, v]: [string, unknown]) =>
    isCollection(v)
      ? [`${indent}${yamlScalar(key)}:`, ...yamlLines(v, `${indent}  `)]
      : [`${indent}${yamlScalar(key)}: ${yamlScalar(v)}`],
  );
}

/**
 * The template as YAML or JSON. The YAML is written here: the CLI is one bundled file, and its
 * few shapes (maps, lists, names, numbers, booleans) need no library. @internal
 */
export function templateText(template: Record<string, unknown>, output: 'yaml' | 'json'): string {
  if (output === 'json') return `${JSON.stringify(template, null, 2)}\n`;
  return `${yamlLines(template, '').join('\n')}\n`;
}
