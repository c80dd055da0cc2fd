/** The SDK path: every call through the client's `send`, with its whole middleware stack. */
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { takesLightSignal } from './deadline.js';
import { leanSerdeOf } from './serde.js';
import type { CallOptions, TableTransport } from './types.js';

/**
 * The table calls through `client.send`. The call's abort signal goes to the SDK (which stops
 * retrying and closes the connection when it fires), except for a client that caches its resolved
 * middleware (`cacheMiddleware: true`): per-call options would turn that cache off, and such a client
 * is bounded by the deadline alone. With `lean`, the four item calls have their JSON written and read
 * in one step each (`serde.ts`) instead of by the SDK's schemas. @internal
 */
export function sdkTransport(client: DynamoDBClient, lean: boolean): TableTransport {
  // `send` is looked up on every call: tracing instrumentations wrap it after the client is made
  const c = client as unknown as {
    config?: { cacheMiddleware?: unknown; requestHandler?: unknown };
    send(command: object, options?: object): Promise<never>;
  };
  const abortable = c.config?.cacheMiddleware !== true;
  const light = takesLightSignal(c.config?.requestHandler);
  const serde = lean ? leanSerdeOf(client) : undefined;
  const send = (command: object, options: CallOptions | undefined): Promise<never> => {
    const deadline = abortable ? options?.deadline : undefined;
    return deadline ? c.send(command, { abortSignal: deadline.signal(light) }) : c.send(command);
  };
  /** An item call, with the lean serializer and deserializer when the client's protocol allows them. */
  const item = <T extends { middlewareStack: unknown }>(command: T, operation: string): T => {
    serde?.(command, operation);
    return command;
  };
  return {
    getItem: (input, options) => send(item(new GetItemCommand(input), 'GetItem'), options),
    putItem: (input, options) => send(item(new PutItemCommand(input), 'PutItem'), options),
    updateItem: (input, options) => send(item(new UpdateItemCommand(input), 'UpdateItem'), options),
    deleteItem: (input, options) => send(item(new DeleteItemCommand(input), 'DeleteItem'), options),
    query: (input, options) => send(new QueryCommand(input), options),
    batchGetItem: (input, options) => send(new BatchGetItemCommand(input), options),
  };
}
