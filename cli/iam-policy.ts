/**
 * `iam-policy`: the least-privilege IAM policy of the store, made from its options. Only the
 * actions it sends with those options, on the table and (for per-user operations) the index; and,
 * apart, what the CLI itself needs.
 */

/** The store's options that decide what it sends, and where the table is. @internal */
export interface PolicySpec {
  tableName: string;
  /** The user index; `undefined` without per-user operations. */
  userIndex: string | undefined;
  prefix: string;
  hashIds: boolean;
  plainIdFallback: boolean;
  /** Seconds; `0` deletes a destroyed session instead of leaving a tombstone. */
  tombstoneSeconds: number;
  /** `undefined`: any (`*`). */
  region: string | undefined;
  /** `undefined`: any (`*`). */
  account: string | undefined;
  /** Limit the item actions to keys that start with the prefix. */
  leadingKeys: boolean;
}

/** One statement of an identity-based policy. @internal */
export interface Statement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string;
  Condition?: Record<string, Record<string, string[]>>;
}

/** An IAM policy document. @internal */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

/** An action and why it is there, for the text output. @internal */
export interface ActionReason {
  action: string;
  why: string;
}

/** The two policies: the app's, and the CLI's (create-table, doctor). @internal */
export interface Policies {
  app: PolicyDocument;
  cli: PolicyDocument;
  /** The app's actions, in the policy's order, with why each is there. */
  appActions: ActionReason[];
  cliActions: ActionReason[];
}

/**
 * What the store sends with these options, on the table and on the index. Every one of these paths
 * is taken in normal use, so each is needed: a missing one fails that path with AccessDenied.
 * @internal
 */
export function storeActions(spec: PolicySpec): { table: ActionReason[]; index: ActionReason[] } {
  const table: ActionReason[] = [
    { action: 'GetItem', why: 'load a session' },
    {
      action: 'PutItem',
      why:
        spec.tombstoneSeconds > 0
          ? "save a session; a destroyed session's tombstone"
          : 'save a session (conditional writes)',
    },
    { action: 'UpdateItem', why: 'touch: the expiry of an unchanged session' },
  ];
  const deletes = [
    ...(spec.tombstoneSeconds === 0 ? ['destroy (tombstoneSeconds 0 deletes)'] : []),
    // a session stored under its plain id moves to its hashed key, and a destroy removes it there
    ...(spec.hashIds && spec.plainIdFallback ? ['remove sessions stored under plain ids once moved'] : []),
  ];
  if (deletes.length) table.push({ action: 'DeleteItem', why: deletes.join('; ') });
  if (!spec.userIndex) return { table, index: [] };
  table.push({ action: 'BatchGetItem', why: "per-user operations: read each listed session's expiry" });
  return { table, index: [{ action: 'Query', why: "per-user operations: a user's sessions, on the index" }] };
}

/** The partition of a region's ARNs (`aws`, or China's and GovCloud's). */
function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The table's ARN. @internal */
export function tableArn(spec: Pick<PolicySpec, 'tableName' | 'region' | 'account'>): string {
  const { tableName, region, account } = spec;
  return `arn:${partitionOf(region)}:dynamodb:${region ?? '*'}:${account ?? '*'}:table/${tableName}`;
}

/** A StringLike pattern matching keys that start with `prefix`: its own `*`, `?` and `$` taken literally. @internal */
export function prefixPattern(prefix: string): string {
  return `${prefix.replace(/[*?$]/g, (c) => `\${${c}}`)}*`;
}

const dynamodb = (reasons: ActionReason[]) => reasons.map((r) => `dynamodb:${r.action}`);

/** The CLI's own actions: create-table's and doctor's, apart from the probes doctor sends as the store does. */
const cliActions: ActionReason[] = [
  { action: 'CreateTable', why: 'create-table' },
  { action: 'DescribeTable', why: 'create-table, doctor (every replica region of a global table)' },
  { action: 'DescribeTimeToLive', why: 'create-table, doctor (every replica region of a global table)' },
  { action: 'UpdateTimeToLive', why: 'create-table: turn TTL on' },
  { action: 'UpdateTable', why: 'create-table --user-index: add the index to an existing table' },
];

/** The app's policy and the CLI's, for these options. @internal */
export function policiesFor(spec: PolicySpec): Policies {
  const arn = tableArn(spec);
  const { table, index } = storeActions(spec);
  const items: Statement = {
    Sid: 'SessionItems',
    Effect: 'Allow',
    Action: dynamodb(table),
    Resource: arn,
    // every action here names its keys (a batch each of its keys): all must start with the prefix
    ...(spec.leadingKeys && {
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [prefixPattern(spec.prefix)] } },
    }),
  };
  const statements = [items];
  if (spec.userIndex) {
    // no LeadingKeys here: on the index they are user ids, which the prefix does not start
    statements.push({
      Sid: 'SessionUserIndex',
      Effect: 'Allow',
      Action: dynamodb(index),
      Resource: `${arn}/index/${spec.userIndex}`,
    });
  }
  const cliStatement: Statement = {
    Sid: 'SessionTableSetup',
    Effect: 'Allow',
    Action: dynamodb(cliActions),
    Resource: arn,
  };
  return {
    app: { Version: '2012-10-17', Statement: statements },
    cli: { Version: '2012-10-17', Statement: [cliStatement] },
    appActions: [...table, ...index],
    cliActions,
  };
}
