import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DynamoDBSessionsError,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidSessionIdError,
  MalformedItemError,
  MissingIndexError,
  SessionDataError,
  SessionIntegrityError,
  SessionTooLargeError,
  StoreUnavailableError,
} from '../../src/index.ts';

const throttled = Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
const errors: [DynamoDBSessionsError, string, number][] = [
  [new SessionTooLargeError(500_000, 409_600), 'ERR_SESSION_TOO_LARGE', 500],
  [new SessionDataError('session.a', 'a BigInt has no JSON form'), 'ERR_SESSION_DATA', 500],
  [new MalformedItemError('sess', 'is missing'), 'ERR_MALFORMED_ITEM', 500],
  [new InvalidSessionIdError('it must be a non-empty string'), 'ERR_INVALID_SESSION_ID', 500],
  [new InvalidOptionError('ttl', 'expected a number'), 'ERR_INVALID_OPTION', 500],
  [new InvalidArgumentError('userId', 'expected a string'), 'ERR_INVALID_ARGUMENT', 500],
  [new MissingIndexError('uid-index', 'is missing'), 'ERR_MISSING_INDEX', 500],
  [new SessionIntegrityError('tampered'), 'ERR_SESSION_INTEGRITY', 500],
  [new StoreUnavailableError('GetItem', throttled), 'ERR_STORE_UNAVAILABLE', 503],
];

test('every error has its literal code, its class name and a 5xx status, never ENOENT or a 4xx', () => {
  for (const [err, code, status] of errors) {
    assert.ok(err instanceof DynamoDBSessionsError && err instanceof Error);
    assert.equal(err.code, code);
    assert.equal(err.name, err.constructor.name);
    assert.equal(err.status, status);
    assert.equal(err.statusCode, status);
    assert.notEqual(err.code, 'ENOENT');
  }
});

test('StoreUnavailableError keeps the SDK error as its cause and says whether DynamoDB throttled', () => {
  const err = new StoreUnavailableError('GetItem', throttled);
  assert.equal(err.cause, throttled);
  assert.equal(err.throttled, true);
  assert.equal(err.operation, 'GetItem');
  assert.match(err.message, /DynamoDB GetItem failed: ProvisionedThroughputExceededException: slow down/);
  assert.equal(new StoreUnavailableError('PutItem', new Error('socket hang up')).throttled, false);
});

test('messages name what was wrong', () => {
  assert.equal(
    new SessionDataError('session.a.b', 'circular reference').message,
    'cannot store session.a.b: circular reference',
  );
  assert.equal(
    new InvalidArgumentError('pageSize', 'expected a whole number >= 1').message,
    'invalid argument pageSize: expected a whole number >= 1',
  );
  assert.match(
    new SessionTooLargeError(500_000, 409_600).message,
    /about 500000 bytes, the limit is 409600 bytes/,
  );
});
