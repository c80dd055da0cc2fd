/** DynamoDB's batch calls: chunks sent a few at a time, and what they leave unprocessed sent again. */
import { setTimeout as delay } from 'node:timers/promises';
import { StoreUnavailableError } from './errors.js';

const parallelBatches = 4;
/** Rounds per batch, with full-jitter backoff between them (50 ms doubling, at most 1 s each): 3.6 s at worst. */
const maxRounds = 8;

/** Runs `fn` on chunks of `size`, `parallelBatches` at a time. @internal */
export async function eachChunk<I>(
  items: I[],
  size: number,
  fn: (chunk: I[]) => Promise<void>,
): Promise<void> {
  const chunks: I[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let chunk = chunks[next++]; chunk; chunk = chunks[next++]) await fn(chunk);
  };
  await Promise.all(Array.from({ length: Math.min(parallelBatches, chunks.length) }, worker));
}

/** Sends a batch call until nothing is left unprocessed, with bounded backoff; `send` returns what is left. @internal */
export async function untilProcessed<R>(operation: string, first: R[], send: (rest: R[]) => Promise<R[]>) {
  let rest = first;
  for (let round = 1; rest.length > 0; round++) {
    if (round > maxRounds) {
      throw new StoreUnavailableError(
        operation,
        new Error(`${rest.length} requests still unprocessed after ${maxRounds} rounds (throttled)`),
      );
    }
    if (round > 1) await delay(Math.random() * Math.min(1000, 25 * 2 ** (round - 1)));
    rest = await send(rest);
  }
}
