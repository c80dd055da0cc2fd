import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DynamoDBSessionsError,
  InvalidArgumentError,
  InvalidOptionError,
  InvalidSessionIdError,
  MalformedItemError,
  MissingIndexError,
  SessionConflictError,
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
  assert.equal(err.detail, 'DynamoDB GetItem failed: ProvisionedThroughputExceededException: slow down');
  assert.equal(new StoreUnavailableError('PutItem', new Error('socket hang up')).throttled, false);
});

test('a 503 says only that the session store is unavailable; what failed and the fix stay on the error', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:8000'), { name: 'Error' });
  const advice =
    'The table "sessions" does not exist (region eu-west-1). Create it with: npx dynamodb-sessions create-table';
  const errors = [
    new StoreUnavailableError('GetItem', refused),
    new StoreUnavailableError('PutItem', new Error('ResourceNotFoundException'), advice),
    new SessionConflictError(16),
  ];
  for (const err of errors) {
    assert.equal(err.status, 503);
    assert.equal(err.message, 'session store unavailable');
    assert.equal(String(err), `${err.name}: session store unavailable`);
    assert.ok(
      err.stack?.startsWith(`${err.name}: session store unavailable\n`),
      'the stack does not show them either',
    );
  }
  assert.match(errors[0]?.detail ?? '', /10\.1\.2\.3:8000/);
  assert.equal((errors[1] as StoreUnavailableError).advice, advice);
  assert.match(errors[2]?.detail ?? '', /gave up after 16 attempts/);
});

test('MissingIndexError names the index, and keeps how to add it in advice', () => {
  const err = new MissingIndexError('uid-index', 'is missing from the table', undefined, 'Add it with: npx');
  assert.equal(err.message, 'user index "uid-index" is missing from the table');
  assert.equal(err.advice, 'Add it with: npx');
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
