/**
 * This package's store for each framework, with its default options, on both of its paths. `ours`
 * makes its own client (only the connection to DynamoDB Local is configured) and sends its item
 * calls without that client's middleware stack (the direct path), so its calls are counted from the
 * engine's own counters (`watch`). `ours-client` is given the app's client, as the other stores
 * are, and sends every call through that client's `send` (the SDK path), counted by its middleware.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SessionEngine } from '../../src/engine.ts';
import type { CommandCounter } from '../counter.ts';
import type { ServerConfig } from '../server.ts';
import { connection } from './common.ts';

/** The engine options of this package's store in the benchmark. */
export function ourOptions(config: ServerConfig): Record<string, unknown> {
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
export function watch(engine: { stats: SessionEngine['stats'] }, counter: CommandCounter): void {
  counter.follow(() => engine.stats());
}

/** The engine options of this package's store given the app's client (the SDK path). */
export function clientOptions(config: ServerConfig, client: DynamoDBClient): Record<string, unknown> {
  const options: Record<string, unknown> = { client, tableName: config.table };
  if (config.touchAfter !== undefined) options.touchAfter = config.touchAfter;
  return options;
}
