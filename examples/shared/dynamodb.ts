/**
 * The DynamoDB an example uses: real AWS (or any endpoint) when AWS_REGION, DYNAMODB_ENDPOINT or
 * TABLE_NAME is set; otherwise DynamoDB Local, started here on 127.0.0.1 (needs Java) and stopped
 * when the example stops. Either way the table is created if missing (with TTL on `expires`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDBLocal } from '../../dev/dynamodb-local.ts';
import { createTable } from '../../src/index.ts';

// the demo runs on Node 20 too: keep the SDK's notice about future Node versions out of its output
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface ExampleDynamoDB {
  client: DynamoDBClient;
  tableName: string;
  where: string;
  stop(): Promise<void>;
}

export async function exampleDynamoDB(): Promise<ExampleDynamoDB> {
  const tableName = process.env.TABLE_NAME ?? 'sessions';
  const configured = process.env.AWS_REGION || process.env.DYNAMODB_ENDPOINT || process.env.TABLE_NAME;
  if (configured) {
    const endpoint = process.env.DYNAMODB_ENDPOINT;
    const client = new DynamoDBClient(endpoint ? { endpoint } : {});
    await createTable(client, { tableName, userIndex: true });
    return {
      client,
      tableName,
      where: endpoint ?? `AWS (${await client.config.region()})`,
      stop: async () => {},
    };
  }
  console.log(
    'No AWS_REGION / DYNAMODB_ENDPOINT / TABLE_NAME given: starting DynamoDB Local on 127.0.0.1 ...',
  );
  const local = await startDynamoDBLocal();
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: local.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createTable(client, { tableName, userIndex: true });
  return {
    client,
    tableName,
    where: `DynamoDB Local at ${local.endpoint} (in memory)`,
    stop: () => local.stop(),
  };
}

/** Stops the server and DynamoDB on Ctrl-C or SIGTERM. */
export function stopOnSignal(stop: () => Promise<void>): void {
  const handler = () => {
    stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
}
