/** Encryption keys that are not random bytes are refused, naming the option; random keys never are. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { KeyRing } from '../../src/format/keyring.ts';
import { InvalidOptionError } from '../../src/index.ts';

const weak: [string, string | Buffer][] = [
  ["43 × 'a' as base64", 'a'.repeat(43)],
  ['64 zeros as hex', '0'.repeat(64)],
  ['Buffer.alloc(32)', Buffer.alloc(32)],
  ['one byte repeated', Buffer.alloc(32, 7)],
  ['a counter', Buffer.from(Array.from({ length: 32 }, (_, i) => i))],
  ['a counter from a random start', Buffer.from(Array.from({ length: 32 }, (_, i) => (200 + 3 * i) & 0xff))],
  ['8 random bytes repeated', Buffer.concat(Array(4).fill(randomBytes(8)))],
  ['a passphrase as bytes', Buffer.from('correct horse battery staple!!!!')],
  ['a passphrase as hex', Buffer.from('Tr0ub4dor&3-but-longer-and-32-ch').toString('hex')],
];

for (const [what, key] of weak) {
  test(`${what}: InvalidOptionError naming the key's option`, () => {
    assert.throws(
      () => new KeyRing([{ key: randomBytes(32) }, { key }]),
      (e: unknown) =>
        e instanceof InvalidOptionError &&
        e.code === 'ERR_INVALID_OPTION' &&
        e.option === 'encryption[1].key' &&
        /not a random key/.test(e.message),
    );
  });
}

test('10,000 random keys are all accepted, as Buffer, hex and base64', () => {
  for (let i = 0; i < 10_000; i++) {
    const key = randomBytes(32);
    const form = i % 3 === 0 ? key : i % 3 === 1 ? key.toString('hex') : key.toString('base64');
    assert.doesNotThrow(() => new KeyRing({ key: form }));
  }
});
