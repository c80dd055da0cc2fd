/** The SDK path: every call through the client's `send`, with its whole middleware stack. */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { takesLightSignal } from './deadline.js';
import type { CallOptions, TableTransport } from './types.js';

/**
 * The table calls through `client.send`. The call's abort signal goes to the SDK (which stops
 * retrying and closes the connection when it fires), except for a client that caches its resolved
 * middleware (`cacheMiddleware: true`): per-call options would turn that cache off, and such a client
 * is bounded by the deadline alone. @internal
 */
export function sdkTransport(client: DynamoDBClient): TableTransport {
  // `send` is looked up on every call: tracing instrumentations wrap it after the client is made
  const c = client as unknown as {
    config?: { cacheMiddleware?: unknown; requestHandler?: unknown };
    send(command: object, options?: object): Promise<never>;
  };
  const abortable = c.config?.cacheMiddleware !== true;
  const light = takesLightSignal(c.config?.requestHandler);
  const send = (command: object, options: CallOptions | undefined): Promise<never> => {
    const deadline = abortable ? options?.deadline : undefined;
    return deadline ? c.send(command, { abortSignal: deadline.signal(light) }) : c.send(command);
  };
  return {
    getItem: (input, options) => send(new GetItemCommand(input), options),
    putItem: (input, options) => send(new PutItemCommand(input), options),
    updateItem: (input, options) => send(new UpdateItemCommand(input), options),
    deleteItem: (input, options) => send(new DeleteItemCommand(input), options),
    query: (input, options) => send(new QueryCommand(input), options),
    batchGetItem: (input, options) => send(new BatchGetItemCommand(input), options),
    batchWriteItem: (input, options) => send(new BatchWriteItemCommand(input), options),
  };
}
