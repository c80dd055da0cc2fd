/** The JSON the direct path sends: binary values as base64, wherever they are, as the SDK sends them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyOf } from '../../src/transport/wire.ts';

const bytes = Buffer.from([0xdb, 20, 1, 2, 3]);
const b64 = bytes.toString('base64');

test('a binary session at the top of the item, in an update, or deeper: base64, the rest as JSON', () => {
  assert.equal(
    bodyOf({ Item: { id: { S: 'k' }, sess: { B: bytes } } }),
    `{"Item":{"id":{"S":"k"},"sess":{"B":"${b64}"}}}`,
  );
  assert.equal(
    bodyOf({ ExpressionAttributeValues: { ':d': { B: new Uint8Array(bytes) }, ':e': { N: '1' } } }),
    `{"ExpressionAttributeValues":{":d":{"B":"${b64}"},":e":{"N":"1"}}}`,
  );
  assert.equal(
    bodyOf({ Item: { sess: { M: { avatar: { B: bytes }, tags: { BS: [bytes] } } } } }),
    `{"Item":{"sess":{"M":{"avatar":{"B":"${b64}"},"tags":{"BS":["${b64}"]}}}}}`,
  );
});

test('without binary values, plain JSON; a map key named B is data, not binary', () => {
  const input = { Item: { id: { S: 'k' }, sess: { M: { B: { M: { x: { S: 'y' } } } } } } };
  assert.equal(bodyOf(input), JSON.stringify(input));
});
