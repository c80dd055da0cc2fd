import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { engineInternals, engineOn } from '../../src/engine.ts';
import {
  DEFAULTS,
  type EngineOptions,
  InvalidOptionError,
  OPTION_NAMES,
  type Serializer,
  SessionEngine,
} from '../../src/index.ts';
import { MemoryTable } from './memory-table.ts';

const key1 = randomBytes(32);
const key2 = randomBytes(32);

function engine(options: EngineOptions = {}) {
  return engineOn(new MemoryTable().transport(), options);
}
const optionsOf = (options: EngineOptions = {}) => engineInternals(engine(options)).options;

describe('defaults', () => {
  test('every default, applied once', () => {
    assert.deepEqual(
      { ...optionsOf() },
      {
        tableName: 'sessions',
        hashKey: 'id',
        prefix: 'session#',
        hashIds: true,
        plainIdFallback: true,
        dataAttribute: 'sess',
        expiresAttribute: 'expires',
        consistentRead: false,
        consistentReadOnMiss: true,
        touchAfter: 3600,
        ttl: 86400,
        tombstoneSeconds: 3600,
        tombstoneAttribute: 'destroyed',
        versionAttribute: 'ver',
        userId: undefined,
        userIdAttribute: 'uid',
        userIndex: 'uid-index',
        cacheSize: 10000,
        capacity: false,
        onCapacity: undefined,
        compress: undefined,
        serializer: undefined,
        encryption: undefined,
        transport: 'auto',
        callTimeoutMs: 10000,
      },
    );
  });

  test('the resolved options are DEFAULTS where nothing was given', () => {
    const o = optionsOf();
    for (const name of Object.keys(o) as (keyof typeof o)[]) {
      if (name in DEFAULTS && name !== 'compress') {
        assert.equal(o[name], DEFAULTS[name as keyof typeof DEFAULTS], name);
      }
    }
  });

  test('DEFAULTS cannot be changed at run time, at any depth', () => {
    assert.ok(Object.isFrozen(DEFAULTS));
    assert.ok(Object.isFrozen(DEFAULTS.clientConfig.requestHandler));
    assert.ok(Object.isFrozen(DEFAULTS.compress));
    assert.ok(Object.isFrozen(DEFAULTS.table));
    assert.throws(() => {
      (DEFAULTS as { tableName: string }).tableName = 'other';
    }, TypeError);
  });

  test('by default nothing is compressed, serialized or sealed; compress: true is brotli over 1 KB', () => {
    const o = optionsOf();
    assert.equal(o.compress, undefined);
    assert.equal(o.serializer, undefined);
    assert.equal(o.encryption, undefined);
    assert.deepEqual(optionsOf({ compress: true }).compress, { threshold: 1024, algorithm: 'brotli' });
    assert.deepEqual(optionsOf({ compress: { algorithm: 'gzip' } }).compress, {
      threshold: 1024,
      algorithm: 'gzip',
    });
    assert.equal(optionsOf({ compress: false }).compress, undefined);
  });

  test('onCapacity turns capacity on unless capacity is set', () => {
    assert.equal(optionsOf({ onCapacity: () => {} }).capacity, true);
    assert.equal(optionsOf({ onCapacity: () => {}, capacity: false }).capacity, false);
  });

  test('the options object given is never modified', () => {
    const given: EngineOptions = { tableName: 'mine', compress: { threshold: 10 } };
    const copy = structuredClone(given);
    engine(given);
    assert.deepEqual(given, copy);
  });

  test('constructing an engine sends nothing to the table', () => {
    const table = new MemoryTable();
    engineOn(table.transport(), { tableName: 'does-not-exist' });
    assert.deepEqual(table.calls, {});
  });
});

describe('bad options', () => {
  /** [options, the option named, a fragment of the rule in the message] */
  const cases: [string, EngineOptions, string, RegExp][] = [
    ['tableName empty', { tableName: '' }, 'tableName', /3-255 characters.*got ""/],
    ['tableName too short', { tableName: 'ab' }, 'tableName', /3-255 characters.*got "ab"/],
    ['tableName with spaces', { tableName: 'a b c' }, 'tableName', /got "a b c"/],
    ['tableName a number', { tableName: 42 as unknown as string }, 'tableName', /got 42/],
    ['hashKey with a space', { hashKey: 'my key' }, 'hashKey', /1-255 characters.*got "my key"/],
    ['dataAttribute empty', { dataAttribute: '' }, 'dataAttribute', /1-255 characters/],
    ['expiresAttribute an object', { expiresAttribute: {} as string }, 'expiresAttribute', /got object/],
    ['tombstoneAttribute', { tombstoneAttribute: 'a/b' }, 'tombstoneAttribute', /got "a\/b"/],
    ['versionAttribute', { versionAttribute: 'v e r' }, 'versionAttribute', /got "v e r"/],
    [
      'versionAttribute on the data',
      { versionAttribute: 'sess' },
      'versionAttribute',
      /already the attribute of dataAttribute/,
    ],
    ['userIdAttribute', { userIdAttribute: '' }, 'userIdAttribute', /1-255/],
    ['userIndex', { userIndex: 'no spaces' }, 'userIndex', /got "no spaces"/],
    [
      'prefix not a string',
      { prefix: 5 as unknown as string },
      'prefix',
      /string of at most 1024 bytes, got 5/,
    ],
    ['prefix too long', { prefix: 'p'.repeat(1025) }, 'prefix', /at most 1024 bytes/],
    ['touchAfter negative', { touchAfter: -1 }, 'touchAfter', /number of seconds >= 0, got -1/],
    [
      'touchAfter a string',
      { touchAfter: '1h' as unknown as number },
      'touchAfter',
      /seconds >= 0, got "1h"/,
    ],
    ['ttl zero', { ttl: 0 }, 'ttl', /seconds >= 1, got 0/],
    ['ttl infinite', { ttl: Number.POSITIVE_INFINITY }, 'ttl', /got Infinity/],
    ['tombstoneSeconds NaN', { tombstoneSeconds: Number.NaN }, 'tombstoneSeconds', /got NaN/],
    ['cacheSize negative', { cacheSize: -5 }, 'cacheSize', /whole number >= 0, got -5/],
    ['cacheSize fractional', { cacheSize: 1.5 }, 'cacheSize', /whole number >= 0, got 1.5/],
    [
      'consistentRead a string',
      { consistentRead: 'yes' as unknown as boolean },
      'consistentRead',
      /true or false, got "yes"/,
    ],
    [
      'consistentReadOnMiss',
      { consistentReadOnMiss: 1 as unknown as boolean },
      'consistentReadOnMiss',
      /got 1/,
    ],
    ['capacity', { capacity: 'on' as unknown as boolean }, 'capacity', /true or false/],
    [
      'userId not a function',
      { userId: 'uid' as unknown as () => string },
      'userId',
      /a function.*got "uid"/,
    ],
    ['onCapacity not a function', { onCapacity: {} as () => void }, 'onCapacity', /a function/],
    [
      'two options on one attribute',
      { dataAttribute: 'expires' },
      'expiresAttribute',
      /already the attribute of dataAttribute/,
    ],
    ['compress.threshold', { compress: { threshold: -1 } }, 'compress.threshold', /bytes >= 0/],
    [
      'compress.algorithm',
      { compress: { algorithm: 'zstd' as 'gzip' } },
      'compress.algorithm',
      /'gzip' or 'brotli', got "zstd"/,
    ],
    ['compress a string', { compress: 'yes' as unknown as boolean }, 'compress', /got "yes"/],
    [
      'serializer without parse',
      { serializer: { stringify: JSON.stringify } as unknown as Serializer },
      'serializer',
      /stringify.*parse/,
    ],
    ['encryption.key of 16 bytes', { encryption: { key: randomBytes(16) } }, 'encryption.key', /32 bytes/],
    [
      'encryption.key not hex nor base64',
      { encryption: { key: 'a'.repeat(32) } },
      'encryption.key',
      /32 bytes/,
    ],
    ['encryption.key bad hex', { encryption: { key: 'zz'.repeat(32) } }, 'encryption.key', /32 bytes/],
    ['encryption empty', { encryption: [] }, 'encryption', /at least one key/],
    [
      'encryption with a key id twice',
      {
        encryption: [
          { key: key1 },
          { key: randomBytes(32).toString('hex'), keyId: 'x' },
          { key: key2, keyId: 'x' },
        ],
      },
      'encryption[2].keyId',
      /used twice/,
    ],
    ['encryption.keyId empty', { encryption: { key: key1, keyId: '' } }, 'encryption.keyId', /1-255 bytes/],
    [
      'encryption.keyId too long',
      { encryption: { key: key1, keyId: 'k'.repeat(256) } },
      'encryption.keyId',
      /1-255 bytes/,
    ],
  ];
  for (const [label, options, option, rule] of cases) {
    test(`${label}: InvalidOptionError naming ${option} and the rule`, () => {
      assert.throws(
        () => engine(options),
        (e: unknown) =>
          e instanceof InvalidOptionError &&
          e.code === 'ERR_INVALID_OPTION' &&
          e.option === option &&
          e.message.startsWith(`invalid option ${option}: `) &&
          rule.test(e.message),
      );
    });
  }

  test('the public constructor refuses bad options too, before making a client', () => {
    assert.throws(() => new SessionEngine({ touchAfter: -1 }), { option: 'touchAfter' });
  });
});

test('a key given as a Buffer, hex, base64 or base64url is the same key; inspecting the options shows none', () => {
  const ids = [key1, key1.toString('hex'), key1.toString('base64'), key1.toString('base64url')].map(
    (key) => optionsOf({ encryption: { key } }).encryption?.ids[0],
  );
  assert.equal(new Set(ids).size, 1);
  const shown = inspect(optionsOf({ encryption: { key: key1 } }), { depth: 5 });
  assert.ok(!shown.includes(key1.toString('hex')) && !shown.includes(key1.toString('base64')), shown);
});

describe('unknown options', () => {
  /** [options as a JavaScript caller might write them, the key named, the advice in the message] */
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ region: 'eu-west-1' }, 'region', /clientConfig: \{ clientConfig: \{ region: "eu-west-1" \} \}/],
    [
      { endpoint: 'http://127.0.0.1:8000' },
      'endpoint',
      /\{ clientConfig: \{ endpoint: "http:\/\/127.0.0.1:8000" \} \}/,
    ],
    [{ credentials: { accessKeyId: 'a' } }, 'credentials', /\{ clientConfig: \{ credentials: \.\.\. \} \}/],
    [{ maxAttempts: 5 }, 'maxAttempts', /\{ clientConfig: \{ maxAttempts: 5 \} \}/],
    [{ table: 'sessions' }, 'table', /did you mean tableName\? \{ tableName: "sessions" \}/],
    [{ TableName: 'sessions' }, 'TableName', /did you mean tableName\?/],
    [{ table_name: 'sessions' }, 'table_name', /did you mean tableName\?/],
    [{ touch_after: 60 }, 'touch_after', /did you mean touchAfter\? \{ touchAfter: 60 \}/],
    [{ partitionKey: 'pk' }, 'partitionKey', /did you mean hashKey\? \{ hashKey: "pk" \}/],
    [{ constructor: 'x' }, 'constructor', /its options: client, clientConfig, transport, .*encryption\)$/],
    [{ tableName: 'sessions', colour: 'blue' }, 'colour', /not an option of the store \(its options: /],
  ];
  for (const [options, key, advice] of cases) {
    test(`${JSON.stringify(options)}: InvalidOptionError naming ${key} and where it belongs`, () => {
      assert.throws(
        () => engine(options as EngineOptions),
        (e: unknown) =>
          e instanceof InvalidOptionError &&
          e.code === 'ERR_INVALID_OPTION' &&
          e.option === key &&
          e.message.startsWith(`invalid option ${key}: not an option of the store`) &&
          advice.test(e.message),
      );
    });
  }

  test('a misplaced key is refused even when its value is undefined', () => {
    assert.throws(() => engine({ region: undefined } as EngineOptions), { option: 'region' });
  });

  test('OPTION_NAMES lists every option once, and each is accepted', () => {
    assert.equal(new Set(OPTION_NAMES).size, OPTION_NAMES.length);
    assert.ok(Object.isFrozen(OPTION_NAMES));
    for (const name of OPTION_NAMES) {
      assert.doesNotThrow(() => engine({ [name]: undefined }), name);
    }
    assert.deepEqual(
      [...OPTION_NAMES].filter((n) => n !== 'client' && n !== 'clientConfig').sort(),
      Object.keys(optionsOf()).sort(),
      'every resolved option is a name of OPTION_NAMES',
    );
  });
});
