import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { CapacityEvent } from './options.js';

/** Counters of one DynamoDB operation. @public */
export interface OperationStats {
  /** Calls sent (retries inside the SDK count once). */
  calls: number;
  /** Calls that failed (throttles included). */
  errors: number;
  /** Calls that failed because DynamoDB throttled them. */
  throttles: number;
  /** Read capacity units DynamoDB reported (needs `capacity: true`). */
  rcu: number;
  /** Write capacity units DynamoDB reported (needs `capacity: true`). */
  wcu: number;
}

/** A snapshot of `stats()`: counters per DynamoDB operation, and totals. @public */
export interface StatsSnapshot {
  /** Counters by operation name (`GetItem`, `PutItem`, ...). */
  operations: Record<string, OperationStats>;
  /** The sum over all operations. */
  total: OperationStats;
  /**
   * Saves that found the session changed by another request since they loaded it, and re-applied
   * their own changes onto the fresh copy: each cost one more write.
   */
  conflicts: number;
  /**
   * Writes not made because the session was gone (destroyed, deleted or expired since the request
   * loaded it): logout stays final, and nothing is brought back.
   */
  skipped: number;
  /**
   * Sessions found that no configured key could open (sealed with a key since removed, or altered):
   * each read as no session, so that the visitor starts a new one instead of being locked out.
   */
  unreadable: number;
}

const reads = new Set(['GetItem', 'Query', 'BatchGetItem']);

function empty(): OperationStats {
  return { calls: 0, errors: 0, throttles: 0, rcu: 0, wcu: 0 };
}

/** Counts calls, errors, throttles and consumed capacity per operation. @internal */
export class StatsRecorder {
  private readonly ops = new Map<string, OperationStats>();
  /** See `StatsSnapshot.conflicts`. */
  conflicts = 0;
  /** See `StatsSnapshot.skipped`. */
  skipped = 0;
  /** See `StatsSnapshot.unreadable`. */
  unreadable = 0;

  constructor(private readonly onCapacity: ((event: CapacityEvent) => void) | undefined) {}

  of(operation: string): OperationStats {
    let s = this.ops.get(operation);
    if (!s) {
      s = empty();
      this.ops.set(operation, s);
    }
    return s;
  }

  capacity(operation: string, consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): void {
    if (!consumed) return;
    let units = 0;
    for (const c of Array.isArray(consumed) ? consumed : [consumed]) units += c.CapacityUnits ?? 0;
    const isRead = reads.has(operation);
    const s = this.of(operation);
    if (isRead) s.rcu += units;
    else s.wcu += units;
    this.onCapacity?.({ operation, rcu: isRead ? units : 0, wcu: isRead ? 0 : units });
  }

  snapshot(): StatsSnapshot {
    const operations: Record<string, OperationStats> = {};
    const total = empty();
    for (const [name, s] of this.ops) {
      operations[name] = { ...s };
      total.calls += s.calls;
      total.errors += s.errors;
      total.throttles += s.throttles;
      total.rcu += s.rcu;
      total.wcu += s.wcu;
    }
    return {
      operations,
      total,
      conflicts: this.conflicts,
      skipped: this.skipped,
      unreadable: this.unreadable,
    };
  }
}
