import {
  type AttributeValue,
  type ConsumedCapacity,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';

/** What the engine reads back from a call. @internal */
export interface ItemOutput {
  Item?: Record<string, AttributeValue> | undefined;
  ConsumedCapacity?: ConsumedCapacity | undefined;
}

/** The four item calls of the session paths. @internal */
export interface ItemTransport {
  getItem(input: GetItemCommandInput): Promise<ItemOutput>;
  putItem(input: PutItemCommandInput): Promise<ItemOutput>;
  updateItem(input: UpdateItemCommandInput): Promise<ItemOutput>;
  deleteItem(input: DeleteItemCommandInput): Promise<ItemOutput>;
}

/** The item calls through the client's `send`, with its whole middleware stack. @internal */
export function sdkTransport(client: DynamoDBClient): ItemTransport {
  return {
    getItem: (input) => client.send(new GetItemCommand(input)),
    putItem: (input) => client.send(new PutItemCommand(input)),
    updateItem: (input) => client.send(new UpdateItemCommand(input)),
    deleteItem: (input) => client.send(new DeleteItemCommand(input)),
  };
}
