/** The TTL check: asked of one table (a replica of a global table has its own), judged apart. */
import {
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  type TimeToLiveDescription,
} from '@aws-sdk/client-dynamodb';
import {
  accessFix,
  awsCommand,
  type Check,
  createCommand,
  errorText,
  ok,
  problem,
  type TableSpec,
  warning,
} from './check.js';

/** What DescribeTimeToLive answered for a table, or how it failed. @internal */
export interface TtlAnswer {
  ttl?: TimeToLiveDescription;
  error?: unknown;
}

/** Asks for the TTL status of the table. @internal */
export async function describeTtl(client: DynamoDBClient, tableName: string): Promise<TtlAnswer> {
  try {
    const out = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    return { ttl: out.TimeToLiveDescription ?? { TimeToLiveStatus: 'DISABLED' } };
  } catch (error) {
    return { error };
  }
}

/**
 * TTL must be on (or turning on) for the expiry attribute. A table with multi-Region strong
 * consistency cannot have TTL: there it is a warning, with what to do instead. @internal
 */
export function checkTtl(answer: TtlAnswer, spec: TableSpec, strong = false): Check {
  const name = 'ttl';
  const attr = spec.expiresAttribute;
  const enable = awsCommand(
    spec,
    'update-time-to-live',
    '--time-to-live-specification',
    `Enabled=true,AttributeName=${attr}`,
  );
  if (answer.error !== undefined || !answer.ttl) {
    const err = answer.error;
    return problem(
      name,
      `cannot read the TTL status: ${errorText(err)}`,
      accessFix(err, 'DescribeTimeToLive', 'the table', spec),
    );
  }
  const status = answer.ttl.TimeToLiveStatus ?? 'DISABLED';
  const on = answer.ttl.AttributeName;
  if ((status === 'ENABLED' || status === 'ENABLING') && on === attr) {
    return ok(name, `TTL is ${status === 'ENABLED' ? 'on' : 'turning on'}: attribute "${attr}"`);
  }
  if (status === 'ENABLED' || status === 'ENABLING') {
    return problem(
      name,
      `TTL is on attribute "${on}", not "${attr}"`,
      `pass --ttl-attribute ${on} here and expiresAttribute: '${on}' to the store, or move TTL ` +
        `(disable it, wait until it is DISABLED, then: ${enable})`,
    );
  }
  if (strong) {
    return warning(
      name,
      'TTL is off: tables with multi-Region strong consistency do not support it, so expired sessions ' +
        'stay stored (the store reads them as absent) and storage keeps growing',
      `delete items whose "${attr}" is past on a schedule, or keep sessions in a table with ` +
        'multi-Region eventual consistency (see docs/regions.md)',
    );
  }
  if (status === 'DISABLING') {
    return problem(name, 'TTL is being disabled', `once it is DISABLED: ${enable}`);
  }
  return problem(
    name,
    `TTL is off: expired sessions are never deleted and storage keeps growing`,
    `${enable}\nor: ${createCommand(spec)}`,
  );
}
