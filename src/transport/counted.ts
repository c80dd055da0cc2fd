/** Every table call counted in `stats()`, and every failure but a failed condition made a `StoreUnavailableError`. */
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { isThrottle, StoreUnavailableError } from '../errors.js';
import type { StatsRecorder } from '../stats.js';
import { operationNames, type TableTransport } from './types.js';

/** DynamoDB's answer to a write whose condition does not hold: a result, not a failure. @internal */
export function isConditionFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/** Wraps a transport: calls, errors, throttles and consumed capacity go to `recorder`. @internal */
export function countedTransport(inner: TableTransport, recorder: StatsRecorder): TableTransport {
  const wrap = <K extends keyof TableTransport>(method: K): TableTransport[K] => {
    const operation = operationNames[method];
    const send = inner[method].bind(inner) as (input: unknown) => Promise<{ ConsumedCapacity?: unknown }>;
    const counted = async (input: unknown) => {
      const s = recorder.of(operation);
      s.calls++;
      try {
        const out = await send(input);
        if (out.ConsumedCapacity)
          recorder.capacity(operation, out.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[]);
        return out;
      } catch (err) {
        if (isConditionFailure(err)) throw err;
        s.errors++;
        if (isThrottle(err)) s.throttles++;
        throw new StoreUnavailableError(operation, err);
      }
    };
    return counted as TableTransport[K];
  };
  return {
    getItem: wrap('getItem'),
    putItem: wrap('putItem'),
    updateItem: wrap('updateItem'),
    deleteItem: wrap('deleteItem'),
    query: wrap('query'),
    batchGetItem: wrap('batchGetItem'),
    batchWriteItem: wrap('batchWriteItem'),
  };
}
