/**
 * The save protocol through Fastify 5: the `dynamodbSessions` plugin, and the bare `DynamoDBStore`
 * registered by hand with @fastify/cookie and @fastify/session.
 */
import { protocolSuite } from './protocol-suite.ts';

for (const cache of ['default', 'off', 'evicted'] as const) protocolSuite({ framework: 'fastify', cache });
for (const cache of ['default', 'off'] as const) protocolSuite({ framework: 'fastify-bare', cache });
protocolSuite({ framework: 'fastify', cache: 'default', ownClient: true });
