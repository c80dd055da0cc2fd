/**
 * Where an example keeps its sessions. Real AWS only when asked for:
 * - by default, DynamoDB Local, started here on 127.0.0.1 (needs Java 17+) and stopped with the
 *   example, whatever AWS settings the shell has;
 * - `AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000`: the DynamoDB at that endpoint (your own
 *   DynamoDB Local, see docs/dynamodb-local.md); the AWS SDK reads this variable itself;
 * - `--aws` (`npm run example -- --aws`): Amazon DynamoDB, with the SDK's region and credentials.
 * `TABLE_NAME` names the table (default `sessions`), which is created if missing.
 * The store gets a `clientConfig`, never a client: it makes its own client, the fast path.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { startDynamoDBLocal } from '../../dev/dynamodb-local.ts';
import { createTable } from '../../src/index.ts';

// the demo runs on Node 20 too: keep the SDK's notice about future Node versions out of its output
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface ExampleDynamoDB {
  /** What the store's own client is made with. */
  clientConfig: DynamoDBClientConfig;
  tableName: string;
  /** Where the sessions are, for the start-up message. */
  where: string;
  stop(): Promise<void>;
}

const usage = 'Usage: npm run example[:express|:fastify|:koa|:hono|:react-router] [-- --aws]';

/** Prints one line and exits: a wrong setting is not a crash, and needs no stack trace. */
function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const firstLine = (err: unknown) =>
  `${err instanceof Error ? err.name : 'Error'}: ${String(err instanceof Error ? err.message : err).split('\n')[0]}`;

function isLoopback(url: string): boolean {
  const host = URL.canParse(url) ? new URL(url).hostname : '';
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The region and credentials the SDK would use, or one line saying which is missing. */
async function checkAws(config: DynamoDBClientConfig, what: string): Promise<string> {
  const client = new DynamoDBClient(config);
  try {
    const region = await client.config.region().catch(() => {
      fail(
        `${what}: no AWS region. Set AWS_REGION (e.g. AWS_REGION=eu-west-1) or a region in your AWS profile.`,
      );
    });
    await client.config.credentials().catch((err: unknown) => {
      fail(
        `${what}: no AWS credentials (${firstLine(err)}). Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.`,
      );
    });
    return region;
  } finally {
    client.destroy();
  }
}

async function ensureTable(config: DynamoDBClientConfig, tableName: string, where: string): Promise<void> {
  const client = new DynamoDBClient(config);
  try {
    await createTable(client, { tableName, userIndex: true });
  } catch (err) {
    fail(`Cannot create or check table "${tableName}" in ${where}: ${firstLine(err)}`);
  } finally {
    client.destroy();
  }
}

export async function exampleDynamoDB(): Promise<ExampleDynamoDB> {
  const args = process.argv.slice(2);
  const unknown = args.find((a) => a !== '--aws');
  if (unknown) fail(`Unknown argument "${unknown}". ${usage}`);
  const tableName = process.env.TABLE_NAME || 'sessions';
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;

  if (endpoint && isLoopback(endpoint)) {
    // DynamoDB Local takes any region and keys (it keeps one database per key id and region)
    const clientConfig: DynamoDBClientConfig = {
      ...(!process.env.AWS_REGION && { region: 'us-east-1' }),
      ...(!process.env.AWS_ACCESS_KEY_ID && {
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    };
    const where = `DynamoDB at ${endpoint} (AWS_ENDPOINT_URL_DYNAMODB)`;
    await ensureTable(clientConfig, tableName, where);
    return { clientConfig, tableName, where, stop: async () => {} };
  }
  if (endpoint || args.includes('--aws')) {
    const what = endpoint ? `AWS_ENDPOINT_URL_DYNAMODB=${endpoint}` : '--aws';
    const region = await checkAws({}, what);
    const where = endpoint ? `DynamoDB at ${endpoint} (${region})` : `Amazon DynamoDB (${region})`;
    await ensureTable({}, tableName, where);
    return { clientConfig: {}, tableName, where, stop: async () => {} };
  }

  console.log(
    'Starting DynamoDB Local on 127.0.0.1 (in memory; `-- --aws` uses Amazon DynamoDB instead) ...',
  );
  const local = await startDynamoDBLocal().catch((err: unknown) =>
    fail(
      `Cannot start DynamoDB Local, which needs Java 17+ with its compiler (e.g. default-jdk-headless): ${firstLine(err)}. ` +
        'Or run your own and set AWS_ENDPOINT_URL_DYNAMODB.',
    ),
  );
  const clientConfig: DynamoDBClientConfig = {
    region: 'us-east-1',
    endpoint: local.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const where = `DynamoDB Local at ${local.endpoint} (in memory)`;
  await ensureTable(clientConfig, tableName, where);
  return { clientConfig, tableName, where, stop: () => local.stop() };
}

/**
 * Stops the server and DynamoDB on Ctrl-C or SIGTERM, and when the process that started this one
 * goes away: `npm run` sends SIGTERM to the shell that runs the script, and a shell such as dash
 * (Debian's and Ubuntu's sh) exits without passing it on, which leaves this process to init.
 */
export function stopOnSignal(stop: () => Promise<void>): void {
  const parent = process.ppid;
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().finally(() => process.exit(0));
  };
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  process.once('SIGHUP', handler);
  setInterval(() => {
    if (process.ppid !== parent) handler();
  }, 500).unref();
}
