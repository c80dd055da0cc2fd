/**
 * The express-session store: `app.use(session({ store: new DynamoDBStore(options), ... }))`.
 * `import { DynamoDBStore } from 'dynamodb-sessions/express'`.
 * @module dynamodb-sessions/express
 */
export * from '../../adapters/express.js';
