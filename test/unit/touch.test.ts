import assert from 'node:assert/strict';
import { test } from 'node:test';
import { touchDue } from '../../src/save/writer.ts';

const now = 1_800_000_000;
const hour = 3600;
const day = 86_400;

test('an expiry that moves later by less than touchAfter is not written', () => {
  assert.equal(touchDue(now + day, now + day + hour - 1, hour, now), false);
  assert.equal(touchDue(now + day, now + day, hour, now), false);
});

test('an expiry that moves later by touchAfter or more is written', () => {
  assert.equal(touchDue(now + day, now + day + hour, hour, now), true);
  assert.equal(touchDue(now + day, now + day + 2 * hour, hour, now), true);
});

test('an earlier expiry is always written, however small the change', () => {
  assert.equal(touchDue(now + day, now + day - 1, hour, now), true);
});

test('a lifetime shorter than touchAfter lags by at most a fifth of it', () => {
  // a 10-minute session: 2 minutes of lag at most, although touchAfter is an hour
  assert.equal(touchDue(now + 600, now + 600 + 119, hour, now + 119), false);
  assert.equal(touchDue(now + 600, now + 600 + 120, hour, now + 120), true);
});

test('touchAfter 0 writes every move later', () => {
  assert.equal(touchDue(now + day, now + day + 1, 0, now), true);
  assert.equal(touchDue(now + day, now + day, 0, now), true);
});
