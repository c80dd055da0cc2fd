/** The JSON the direct path sends and reads: binary values as base64 on the wire and bytes in code, wherever they are, as the SDK has them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyOf, outputOf } from '../../src/transport/wire.ts';

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

test('an answer gives binary values back as bytes wherever they are, with or without spaces in its JSON', () => {
  const answers = [
    `{"Item":{"id":{"S":"k"},"sess":{"B":"${b64}"}}}`,
    `{"Item": {"id": {"S": "k"}, "sess": {"B" : "${b64}"}}}`,
  ];
  for (const text of answers) {
    const out = outputOf(text);
    assert.deepEqual(out.Item?.sess, { B: new Uint8Array(bytes) }, text);
    assert.equal(Object.getPrototypeOf(out.Item?.sess?.B), Uint8Array.prototype);
  }
  const deep = outputOf(
    `{"Attributes":{"m":{"M":{"a":{"L":[{"B":"${b64}"},{"S":"B"}]},"s":{"BS":["${b64}"]}}}}}`,
  );
  assert.deepEqual(deep.Attributes?.m?.M?.a?.L?.[0]?.B, new Uint8Array(bytes));
  assert.deepEqual(deep.Attributes?.m?.M?.s?.BS, [new Uint8Array(bytes)]);
});

test('an answer without binary values is its JSON as parsed; text that only looks like a key stays text', () => {
  const plain = `{"Item":{"sess":{"M":{"note":{"S":"a \\"B\\": 1"},"flag":{"BOOL":true}}}}}`;
  assert.deepEqual(outputOf(plain), JSON.parse(plain));
  assert.deepEqual(outputOf(''), {});
  // a map key B holding a string: data, left as it is
  const keyB = '{"Item":{"sess":{"M":{"B":{"S":"x"}}}}}';
  assert.deepEqual(outputOf(keyB), JSON.parse(keyB));
});
