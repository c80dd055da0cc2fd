/**
 * What `doctor` finds on a DynamoDB global table: each replica (region, status) with its TTL, the
 * witness of a table with multi-Region strong consistency, and what replication means for logout.
 * `globalTableChecks` is pure: a DescribeTable result and each replica's TTL answer in, findings
 * out. `replicaTtls` asks each replica's region for its TTL status (TTL is a setting of each
 * replica table, which DynamoDB copies to the others).
 */
import type { DynamoDBClient, ReplicaDescription, TableDescription } from '@aws-sdk/client-dynamodb';
import { type Check, ok, problem, type TableSpec, warning } from './check.js';
import { checkTtl, describeTtl, type TtlAnswer } from './ttl.js';

/** A replica's TTL answer; no `answer` when its region could not be asked. @internal */
export interface ReplicaTtl {
  region: string;
  answer?: TtlAnswer;
}

/** A global table with multi-Region strong consistency (MRSC). @internal */
export const isStronglyConsistent = (table: TableDescription) => table.MultiRegionConsistency === 'STRONG';

/** One replica: its region and status, and whether it is the one described. */
interface Replica {
  region: string;
  status: string;
  description: string | undefined;
  local: boolean;
}

/**
 * Every replica of the table, the described one first; none when the table is not replicated.
 * DescribeTable lists the other replicas in `Replicas`; the table described (in `localRegion`) is
 * a replica too, listed or not, with its `TableStatus`.
 */
export function replicasOf(table: TableDescription, localRegion: string): Replica[] {
  const listed = table.Replicas ?? [];
  const others = listed.filter((r) => r.RegionName !== undefined && r.RegionName !== localRegion);
  if (!others.length) return [];
  const self = listed.find((r) => r.RegionName === localRegion);
  const replica = (r: ReplicaDescription): Replica => ({
    region: r.RegionName ?? '',
    status: r.ReplicaStatus ?? 'UNKNOWN',
    description: r.ReplicaStatusDescription,
    local: false,
  });
  const local: Replica = self
    ? { ...replica(self), local: true }
    : { region: localRegion, status: table.TableStatus ?? 'UNKNOWN', description: undefined, local: true };
  return [local, ...others.map(replica).sort((a, b) => a.region.localeCompare(b.region))];
}

/** What to do about a replica that is not ACTIVE. */
function statusFix(r: Replica): string {
  switch (r.status) {
    case 'CREATING':
    case 'UPDATING':
      return 'wait until it is ACTIVE, then run this again';
    case 'DELETING':
      return 'it is being removed from the global table: its region no longer gets the writes';
    case 'REGION_DISABLED':
      return `enable ${r.region} for the account again: after 20 hours DynamoDB stops replicating to and from it`;
    case 'INACCESSIBLE_ENCRYPTION_CREDENTIALS':
      return `make the table's KMS key usable in ${r.region} again: after 20 hours DynamoDB stops replicating to and from it`;
    case 'REPLICATION_NOT_AUTHORIZED':
      return 'allow replication between the accounts of the replicas (multi-account global table)';
    case 'CREATION_FAILED':
      return `remove the replica in ${r.region} and add it again`;
    default:
      return 'see ReplicaStatusDescription in DescribeTable';
  }
}

/** A replica's status and TTL in one finding. */
function replicaCheck(r: Replica, spec: TableSpec, strong: boolean, answer: TtlAnswer | undefined): Check {
  const name = `replica ${r.region}`;
  const head = `replica ${r.region}${r.local ? ' (this region)' : ''}: ${r.status}`;
  const detail = r.description ? ` (${r.description})` : '';
  const fixes = r.status === 'ACTIVE' ? [] : [statusFix(r)];
  let ttl: string;
  let ttlProblem = false;
  if (strong) ttl = 'TTL not supported (multi-Region strong consistency)';
  else if (!answer) ttl = 'TTL not checked (an --endpoint reaches one region only)';
  else {
    const check = checkTtl(answer, {
      ...spec,
      region: r.region,
      endpoint: r.local ? spec.endpoint : undefined,
    });
    ttl = check.message;
    ttlProblem = check.status !== 'ok';
    if (ttlProblem && check.fix) fixes.push(check.fix);
  }
  const message = `${head}${detail}; ${ttl}`;
  return fixes.length || ttlProblem ? problem(name, message, fixes.join('\n')) : ok(name, message);
}

/**
 * The findings on a global table: one per replica (status and TTL), one per witness, and what its
 * consistency mode means for logout. None for a table that is not replicated.
 * @param table - DescribeTable's `Table`, in the shape DynamoDB documents (`Replicas`, `GlobalTableWitnesses`, `MultiRegionConsistency`)
 * @param localRegion - the region the table was described in
 * @param ttls - each replica's TTL answer, by region (see `replicaTtls`)
 * @internal
 */
export function globalTableChecks(
  table: TableDescription,
  spec: TableSpec,
  localRegion: string,
  ttls: ReplicaTtl[],
): Check[] {
  const replicas = replicasOf(table, localRegion);
  if (!replicas.length) return [];
  const strong = isStronglyConsistent(table);
  const checks = replicas.map((r) =>
    replicaCheck(r, spec, strong, ttls.find((t) => t.region === r.region)?.answer),
  );
  for (const w of table.GlobalTableWitnesses ?? []) {
    const message = `witness ${w.RegionName}: ${w.WitnessStatus ?? 'UNKNOWN'} (holds the replicated changes; no reads or writes)`;
    checks.push(
      w.WitnessStatus === 'ACTIVE'
        ? ok(`witness ${w.RegionName}`, message)
        : problem(`witness ${w.RegionName}`, message, 'wait until it is ACTIVE, then run this again'),
    );
  }
  const regions = `global table in ${replicas.length} regions (${replicas.map((r) => r.region).join(', ')})`;
  if (strong) {
    checks.push(
      ok(
        'logout across regions',
        `${regions}, multi-Region strong consistency: each write is checked against the latest item ` +
          'in every region, so a logout is final everywhere',
      ),
    );
    return checks;
  }
  checks.push(
    warning(
      'logout across regions',
      `${regions}, multi-Region eventual consistency: replication is last writer wins per item, so a ` +
        'logout is not final across regions: a save in flight in another region can overwrite the ' +
        'tombstone before it arrives there',
      'if a logout must hold in every region at once, send each user to one region, or use a table ' +
        'with multi-Region strong consistency (see docs/regions.md)',
    ),
  );
  return checks;
}

/**
 * Asks each other replica's region for the table's TTL status; the local replica's answer is
 * `local`. A region that cannot be reached (through an --endpoint) gets no answer.
 * @internal
 */
export async function replicaTtls(
  table: TableDescription,
  spec: TableSpec,
  localRegion: string,
  local: TtlAnswer,
  clientFor: (region: string) => DynamoDBClient | undefined,
): Promise<ReplicaTtl[]> {
  if (isStronglyConsistent(table)) return [];
  const ask = async (r: Replica): Promise<ReplicaTtl> => {
    if (r.local) return { region: r.region, answer: local };
    const client = clientFor(r.region);
    if (!client) return { region: r.region };
    try {
      return { region: r.region, answer: await describeTtl(client, spec.tableName) };
    } finally {
      client.destroy();
    }
  };
  return Promise.all(replicasOf(table, localRegion).map(ask));
}
