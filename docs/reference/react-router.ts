/**
 * React Router 7 and 8: `createDynamoDBSessionStorage(options)`, React Router's `SessionStorage`
 * (`getSession`, `commitSession`, `destroySession`) on DynamoDB, for framework and data mode.
 * `import { createDynamoDBSessionStorage } from 'dynamodb-sessions/react-router'`.
 * @module dynamodb-sessions/react-router
 */
export * from '../../adapters/react-router.js';
