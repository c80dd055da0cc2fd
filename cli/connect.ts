/**
 * How the CLI reaches DynamoDB: the region, the endpoint and the credentials, each missing piece
 * named in one line. DynamoDB Local on a loopback address needs no AWS account: without
 * credentials the CLI signs with dummy keys, which it accepts.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/** The region or the credentials are missing: one line, exit code 1. */
export class SetupError extends Error {
  override name = 'SetupError';
}

/** The keys the CLI signs with for DynamoDB Local when none are set (the examples use the same). */
export const LOCAL_CREDENTIALS: Readonly<{ accessKeyId: string; secretAccessKey: string }> = {
  accessKeyId: 'local',
  secretAccessKey: 'local',
};
/** The region for DynamoDB Local when none is set. */
export const LOCAL_REGION = 'us-east-1';

/** A client, where it points, and what the CLI chose for the user. */
export interface Connection {
  client: DynamoDBClient;
  region: string;
  /** `--endpoint`, or the SDK's `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`; `undefined` for AWS. */
  endpoint: string | undefined;
  /** What was filled in for DynamoDB Local, for the user to know (empty otherwise). */
  notes: string[];
  /** A client for another region with the same credentials; `undefined` with an endpoint. */
  clientFor(region: string): DynamoDBClient | undefined;
}

/** `localhost`, `127.x.x.x` or `[::1]`: DynamoDB Local, never AWS. */
export function isLoopback(endpoint: string): boolean {
  const host = URL.canParse(endpoint) ? new URL(endpoint).hostname : '';
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

// bounded: a CLI run never hangs on an unreachable endpoint
const bounds: DynamoDBClientConfig = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 },
};

async function resolved<T>(get: () => Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await get() };
  } catch (error) {
    return { error };
  }
}

/** The endpoint the SDK takes from the environment, as an app configured that way gets it. */
function environmentEndpoint(): string | undefined {
  if (process.env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  return process.env.AWS_ENDPOINT_URL_DYNAMODB || process.env.AWS_ENDPOINT_URL || undefined;
}

/**
 * A client for `endpoint` (or the one set in the environment), or for AWS through the SDK's
 * default region and credential chain.
 * @throws SetupError naming what to set when the region or the credentials are missing
 */
export async function connect(where: { region?: string | undefined; endpoint?: string | undefined }) {
  const endpoint = where.endpoint ?? environmentEndpoint();
  const local = endpoint !== undefined && isLoopback(endpoint);
  // DynamoDB Local needs no instance role: never ask a metadata service for one
  if (local) process.env.AWS_EC2_METADATA_DISABLED ??= 'true';
  const notes: string[] = [];
  const base = { ...bounds, ...(endpoint !== undefined && { endpoint }) };
  const probe = new DynamoDBClient({ ...base, ...(where.region !== undefined && { region: where.region }) });
  const region = await resolved(() => probe.config.region());
  const credentials = await resolved(() => probe.config.credentials());
  probe.destroy();
  if (region.value === undefined && !local) {
    throw new SetupError('no AWS region: pass --region or set AWS_REGION (or AWS_PROFILE with a region)');
  }
  if (credentials.error !== undefined && !local) throw credentialsError(credentials.error, endpoint);
  const filled = [
    ...(credentials.error !== undefined ? [`access key id "${LOCAL_CREDENTIALS.accessKeyId}"`] : []),
    ...(region.value === undefined ? [`region ${LOCAL_REGION}`] : []),
  ];
  if (filled.length) {
    const missing = credentials.error !== undefined ? 'AWS credentials' : 'region';
    const both = filled.length === 2 ? 'AWS credentials or region' : missing;
    notes.push(
      `no ${both} set: using ${filled.join(' and ')} for DynamoDB Local at ${endpoint}, which accepts any keys`,
    );
  }
  const config: DynamoDBClientConfig = {
    ...base,
    region: region.value ?? LOCAL_REGION,
    // a copy: the SDK marks the credentials object it is given
    ...(credentials.error !== undefined && { credentials: { ...LOCAL_CREDENTIALS } }),
  };
  const client = new DynamoDBClient(config);
  const connection: Connection = {
    client,
    region: region.value ?? LOCAL_REGION,
    endpoint,
    notes,
    clientFor: (other) =>
      endpoint === undefined
        ? new DynamoDBClient({ ...bounds, region: other, credentials: client.config.credentials })
        : undefined,
  };
  return connection;
}

function credentialsError(err: unknown, endpoint: string | undefined): SetupError {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof Error && err.name === 'CredentialsProviderError' && /any providers/.test(message)) {
    const hint =
      endpoint === undefined
        ? 'for DynamoDB Local, pass --endpoint http://127.0.0.1:8000'
        : 'DynamoDB Local accepts any, e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local';
    return new SetupError(
      `no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (${hint})`,
    );
  }
  return new SetupError(`AWS credentials failed: ${message.split('\n')[0]}`);
}
