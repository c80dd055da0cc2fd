/**
 * koa-session: `app.use(dynamodbSession(app, options))`, or the bare `DynamoDBStore` for your own
 * `session({ store }, app)`. `import { dynamodbSession, DynamoDBStore } from 'dynamodb-sessions/koa'`.
 * @module dynamodb-sessions/koa
 */
export * from '../../adapters/koa.js';
