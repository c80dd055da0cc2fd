/** The JSON the direct path sends and reads: binary values as base64 on the wire and bytes in code, wherever they are, as the SDK has them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestSigner } from '../../src/transport/sigv4.ts';
import { bodyOf, clockOffsetOf, outputOf } from '../../src/transport/wire.ts';

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

test("the server clock's offset follows each answer's date, whichever came before", () => {
  const answer = (date: string | undefined, age?: string) => ({ statusCode: 200, headers: { date, age } });
  const now = Date.now();
  const later = new Date(now + 120_000).toUTCString();
  const earlier = new Date(now - 60_000).toUTCString();
  const near = (offset: number, expected: number) =>
    assert.ok(Math.abs(offset - expected) < 2_000, `${offset}`);
  near(clockOffsetOf(answer(later), 0, now), 120_000);
  near(clockOffsetOf(answer(earlier), 0, now), -60_000);
  near(clockOffsetOf(answer(later), 0, now), 120_000);
  // an answer from a cache (age), without a date, or with a date that is none: the offset is kept
  assert.equal(clockOffsetOf(answer(later, '5'), 7, now), 7);
  assert.equal(clockOffsetOf(answer(undefined), 7, now), 7);
  assert.equal(clockOffsetOf(answer('not a date'), 7, now), 7);
  near(clockOffsetOf(answer(earlier), 0, now), -60_000);
});

test('each request is signed with the time of its own second, in order or not', () => {
  const signer = new RequestSigner();
  const identity = { accessKeyId: 'AK', secretAccessKey: 'secret' };
  const signAt = (iso: string) => {
    const headers: Record<string, string> = {
      host: 'localhost',
      'x-amz-target': 'DynamoDB_20120810.GetItem',
    };
    signer.sign(headers, 'e3b0', true, identity, new Date(iso), 'eu-west-1', 'dynamodb');
    return headers;
  };
  const first = signAt('2026-11-30T23:59:59.100Z');
  assert.equal(first['x-amz-date'], '20261130T235959Z');
  assert.match(String(first.authorization), /Credential=AK\/20261130\/eu-west-1\/dynamodb\/aws4_request/);
  assert.equal(signAt('2026-11-30T23:59:59.900Z')['x-amz-date'], '20261130T235959Z');
  const next = signAt('2026-12-01T00:00:00.000Z');
  assert.equal(next['x-amz-date'], '20261201T000000Z');
  assert.match(String(next.authorization), /Credential=AK\/20261201\//);
  assert.equal(signAt('2026-11-30T23:59:59.500Z')['x-amz-date'], '20261130T235959Z');
  // the same request at the same second is signed the same; a second later, differently
  assert.equal(signAt('2026-11-30T23:59:59.000Z').authorization, first.authorization);
  assert.notEqual(signAt('2026-12-01T00:00:00.999Z').authorization, first.authorization);
});
