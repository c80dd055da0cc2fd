/**
 * Makes and closes stores over one client, with `--expose-gc`: prints on stdout, as JSON, how much
 * the heap grew over 10,000 of them after a first 1,000, and whether the client's stack is as it was.
 */
import { Readable } from 'node:stream';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SessionEngine } from '../../../src/index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const requestHandler = {
  metadata: { handlerProtocol: 'http/1.1' },
  handle: async () => ({
    response: { statusCode: 200, headers: {}, body: Readable.from([Buffer.from('{}')]) },
  }),
  updateHttpClientConfig() {},
  httpHandlerConfigs: () => ({}),
  destroy() {},
};
const client = new DynamoDBClient({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  requestHandler: requestHandler as never,
});
const add = client.middlewareStack.add;

async function stores(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const engine = new SessionEngine({ client, tableName: 'sessions' });
    if (i % 100 === 0) await engine.get(`s-${i}`); // some of them send a call
    engine.close();
  }
}

await stores(1000);
gc();
const before = process.memoryUsage().heapUsed;
await stores(10_000);
gc();
const growth = process.memoryUsage().heapUsed - before;
const restored = client.middlewareStack.add === add;
let addWorks = true;
try {
  client.middlewareStack.add((next) => (args) => next(args), { step: 'initialize', name: 'appMiddleware' });
} catch {
  addWorks = false;
}
process.stdout.write(JSON.stringify({ growth, restored, addWorks }));
