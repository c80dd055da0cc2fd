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
import type { TableTransport } from './types.js';

/** The table calls through `client.send`. @internal */
export function sdkTransport(client: DynamoDBClient): TableTransport {
  return {
    getItem: (input) => client.send(new GetItemCommand(input)),
    putItem: (input) => client.send(new PutItemCommand(input)),
    updateItem: (input) => client.send(new UpdateItemCommand(input)),
    deleteItem: (input) => client.send(new DeleteItemCommand(input)),
    query: (input) => client.send(new QueryCommand(input)),
    batchGetItem: (input) => client.send(new BatchGetItemCommand(input)),
    batchWriteItem: (input) => client.send(new BatchWriteItemCommand(input)),
  };
}
