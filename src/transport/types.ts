/** The calls the engine makes to its table, whatever carries them. */
import type {
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  BatchWriteItemCommandInput,
  BatchWriteItemCommandOutput,
  ConsumedCapacity,
  DeleteItemCommandInput,
  GetItemCommandInput,
  PutItemCommandInput,
  QueryCommandInput,
  QueryCommandOutput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Item } from '../format/item.js';

/** What the engine reads back from an item call. @internal */
export interface ItemOutput {
  Item?: Item | undefined;
  Attributes?: Item | undefined;
  ConsumedCapacity?: ConsumedCapacity | undefined;
}

/** What the engine reads back from a query page. @internal */
export type QueryOutput = Pick<QueryCommandOutput, 'Items' | 'LastEvaluatedKey' | 'ConsumedCapacity'>;

/** What the engine reads back from a batch read. @internal */
export type BatchGetOutput = Pick<
  BatchGetItemCommandOutput,
  'Responses' | 'UnprocessedKeys' | 'ConsumedCapacity'
>;

/** What the engine reads back from a batch write. @internal */
export type BatchWriteOutput = Pick<BatchWriteItemCommandOutput, 'UnprocessedItems' | 'ConsumedCapacity'>;

/**
 * The engine's calls to DynamoDB: the four item calls of the session paths, and the query and
 * batch calls of the per-user operations. The SDK path, the direct path and the unit tests'
 * in-memory table implement it. @internal
 */
export interface TableTransport {
  getItem(input: GetItemCommandInput): Promise<ItemOutput>;
  putItem(input: PutItemCommandInput): Promise<ItemOutput>;
  updateItem(input: UpdateItemCommandInput): Promise<ItemOutput>;
  deleteItem(input: DeleteItemCommandInput): Promise<ItemOutput>;
  query(input: QueryCommandInput): Promise<QueryOutput>;
  batchGetItem(input: BatchGetItemCommandInput): Promise<BatchGetOutput>;
  batchWriteItem(input: BatchWriteItemCommandInput): Promise<BatchWriteOutput>;
}

/** A transport's operations, named as DynamoDB names them. @internal */
export const operationNames = {
  getItem: 'GetItem',
  putItem: 'PutItem',
  updateItem: 'UpdateItem',
  deleteItem: 'DeleteItem',
  query: 'Query',
  batchGetItem: 'BatchGetItem',
  batchWriteItem: 'BatchWriteItem',
} as const satisfies Record<keyof TableTransport, string>;
