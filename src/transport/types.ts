/** The calls the engine makes to its table, whatever carries them. */
import type {
  BatchGetItemCommandInput,
  BatchGetItemCommandOutput,
  ConsumedCapacity,
  DeleteItemCommandInput,
  GetItemCommandInput,
  PutItemCommandInput,
  QueryCommandInput,
  QueryCommandOutput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Item } from '../format/item.js';
import type { Deadline } from './deadline.js';

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

/** What a transport is told about one call. @internal */
export interface CallOptions {
  /** The call's deadline (`callTimeoutMs`): its signal is aborted when it passes (stop retrying, free the connection). */
  deadline?: Deadline;
}

/**
 * The engine's calls to DynamoDB: the four item calls of the session paths, and the query and
 * batch calls of the per-user operations. The SDK path, the direct path and the unit tests'
 * in-memory table implement it. @internal
 */
export interface TableTransport {
  getItem(input: GetItemCommandInput, options?: CallOptions): Promise<ItemOutput>;
  putItem(input: PutItemCommandInput, options?: CallOptions): Promise<ItemOutput>;
  updateItem(input: UpdateItemCommandInput, options?: CallOptions): Promise<ItemOutput>;
  deleteItem(input: DeleteItemCommandInput, options?: CallOptions): Promise<ItemOutput>;
  query(input: QueryCommandInput, options?: CallOptions): Promise<QueryOutput>;
  batchGetItem(input: BatchGetItemCommandInput, options?: CallOptions): Promise<BatchGetOutput>;
  /** Undoes what the transport did to the client (the direct path's watch on its middleware stack). */
  close?(): void;
}

/** A transport's calls to DynamoDB. @internal */
export type TableCall = Exclude<keyof TableTransport, 'close'>;

/** A transport's operations, named as DynamoDB names them. @internal */
export const operationNames = {
  getItem: 'GetItem',
  putItem: 'PutItem',
  updateItem: 'UpdateItem',
  deleteItem: 'DeleteItem',
  query: 'Query',
  batchGetItem: 'BatchGetItem',
} as const satisfies Record<TableCall, string>;
