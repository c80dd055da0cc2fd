/**
 * This package's store for each framework, with its default options, on both of its paths. `ours`
 * makes its own client (only the connection to DynamoDB Local is configured) and `ours-client` is
 * given a plain client of the app's: both send their item calls without the client's middleware
 * stack (the direct path), so their calls are counted from the engine's own counters (`watch`).
 * `ours-client-mw` is given the client the other stores get, whose counting middleware is a
 * middleware of the app's to it: every call goes through that client's `send` (the SDK path).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SessionEngine } from '../../src/engine.ts';
import type { CommandCounter } from '../counter.ts';
import type { ServerConfig } from '../server.ts';
import { connection } from './common.ts';

/** The engine options of this package's store in the benchmark. */
function ourOptions(config: ServerConfig): Record<string, unknown> {
  const options: Record<string, unknown> = { tableName: config.table, clientConfig: connection(config) };
  if (config.touchAfter !== undefined) options.touchAfter = config.touchAfter;
  // the engine reports DynamoDB's units itself (see `watch`), as the middleware asks for the others'
  options.capacity = true;
  return options;
}

/**
 * Counts the engine's calls from its own counters. A middleware added to its client would make it
 * send every call through the client's whole stack, which is not what an application runs.
 */
function watch(engine: { stats: SessionEngine['stats'] }, counter: CommandCounter): void {
  counter.follow(() => engine.stats());
}

/** The engine options of this package's store given the app's client (the SDK path). */
function clientOptions(config: ServerConfig, client: DynamoDBClient): Record<string, unknown> {
  const options: Record<string, unknown> = { client, tableName: config.table };
  if (config.touchAfter !== undefined) options.touchAfter = config.touchAfter;
  return options;
}

/**
 * The engine options of this package's store given a plain client of the app's (only the SDK's own
 * middleware): the direct path, counted from the engine's counters (`watch`) as for its own client.
 */
function plainClientOptions(config: ServerConfig): Record<string, unknown> {
  const { clientConfig, ...options } = ourOptions(config);
  return { ...options, client: new DynamoDBClient(clientConfig as ReturnType<typeof connection>) };
}

/** A store class of this package's adapters: made from the engine's options, with its engine. */
type StoreClass<S> = new (
  options: Record<string, unknown>,
) => S & { engine: { stats: SessionEngine['stats'] } };

/** What makes one of this package's stores from the engine's options (a class, or a factory). */
type StoreMaker<S> = (options: Record<string, unknown>) => S & { engine: { stats: SessionEngine['stats'] } };

/**
 * This package's store of one framework for the run's `ours*` store id, counted as its path
 * allows; `undefined` for any other id. `client` is the one the other stores get (with the
 * counting middleware).
 */
export function ourStore<S>(
  Store: StoreClass<S>,
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): S | undefined {
  return ourStoreFrom((options) => new Store(options), config, client, counter);
}

/** `ourStore` for an adapter that is a factory function (React Router's `createDynamoDBSessionStorage`). */
export function ourStoreFrom<S>(
  make: StoreMaker<S>,
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): S | undefined {
  const watched = (options: Record<string, unknown>): S => {
    const store = make(options);
    watch(store.engine, counter);
    return store;
  };
  switch (config.store) {
    case 'ours':
      return watched(ourOptions(config));
    case 'ours-plain-ids':
      return watched({ ...ourOptions(config), hashIds: false });
    case 'ours-client':
      return watched(plainClientOptions(config));
    case 'ours-client-mw':
      return make(clientOptions(config, client));
    case 'ours-client-sdk':
      return make({ ...clientOptions(config, client), transport: 'sdk' });
  }
  return undefined;
}
