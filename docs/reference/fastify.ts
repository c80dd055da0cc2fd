/**
 * Fastify 5: the `dynamodbSessions` plugin, which registers `@fastify/cookie` and `@fastify/session`
 * with a DynamoDB store, or the bare `DynamoDBStore` for your own `@fastify/session` setup.
 * `import { dynamodbSessions, DynamoDBStore } from 'dynamodb-sessions/fastify'`.
 * @module dynamodb-sessions/fastify
 */
export * from '../../adapters/fastify.js';
