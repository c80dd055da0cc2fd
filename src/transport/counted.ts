/**
 * Every table call bounded by the store's deadline (`callTimeoutMs`), counted in `stats()`, and every
 * failure but a failed condition made a `StoreUnavailableError`.
 */
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { isMissingTable, isThrottle, StoreUnavailableError } from '../errors.js';
import type { StatsRecorder } from '../stats.js';
import { Deadline } from './deadline.js';
import { type CallOptions, operationNames, type TableCall, type TableTransport } from './types.js';

/** DynamoDB's answer to a write whose condition does not hold: a result, not a failure. @internal */
export function isConditionFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

/** The cause of a call that did not end within the deadline. */
function deadlineError(operation: string, timeoutMs: number): Error {
  const err = new Error(`no answer from DynamoDB ${operation} within ${timeoutMs} ms (callTimeoutMs)`);
  err.name = 'TimeoutError';
  return err;
}

/**
 * Runs `send` until it settles or `timeoutMs` has passed, whichever comes first. At the deadline the
 * call's signal is aborted (the SDK stops retrying and closes its connection) and the call fails at
 * once, whatever the client does with the signal: a client without timeouts still answers in time.
 */
function bounded<O>(
  send: (options: CallOptions) => Promise<O>,
  operation: string,
  timeoutMs: number,
): Promise<O> {
  const deadline = new Deadline();
  return new Promise<O>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = deadlineError(operation, timeoutMs);
      reject(err);
      deadline.expire(err);
    }, timeoutMs);
    send({ deadline }).then(
      (out) => {
        clearTimeout(timer);
        resolve(out);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Wraps a transport: each call bounded by `timeoutMs`; calls, errors, throttles and consumed capacity
 * to `recorder`; `missingTable` says what to do when DynamoDB answers that the table does not exist.
 * @internal
 */
export function countedTransport(
  inner: TableTransport,
  recorder: StatsRecorder,
  timeoutMs: number,
  missingTable?: () => Promise<string>,
): TableTransport {
  const wrap = <K extends TableCall>(method: K): TableTransport[K] => {
    const operation = operationNames[method];
    const send = inner[method].bind(inner) as (
      input: unknown,
      options: CallOptions,
    ) => Promise<{ ConsumedCapacity?: unknown }>;
    const counted = async (input: unknown) => {
      const s = recorder.of(operation);
      s.calls++;
      try {
        const out = await bounded((options) => send(input, options), operation, timeoutMs);
        if (out.ConsumedCapacity)
          recorder.capacity(operation, out.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[]);
        return out;
      } catch (err) {
        if (isConditionFailure(err)) throw err;
        s.errors++;
        if (isThrottle(err)) s.throttles++;
        const advice = missingTable && isMissingTable(err) ? await missingTable() : undefined;
        throw new StoreUnavailableError(operation, err, advice);
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
    close: () => inner.close?.(),
  };
}
