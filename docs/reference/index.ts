/**
 * The session engine, the options, the typed errors, `createTable` and the defaults: what the
 * framework adapters share. `import { createTable, SessionEngine } from 'dynamodb-sessions'`.
 * @module dynamodb-sessions
 */
export * from '../../src/index.js';
