/**
 * Hono 4 with hono-sessions 0.8: `sessionMiddleware({ store: new DynamoDBStore(options), ... })`.
 * `import { DynamoDBStore } from 'dynamodb-sessions/hono'`.
 * @module dynamodb-sessions/hono
 */
export * from '../../adapters/hono.js';
