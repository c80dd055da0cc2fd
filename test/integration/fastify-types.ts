/**
 * Typecheck only (`tsc --noEmit`), never run: the session's shape is declared by augmenting
 * fastify's `Session` interface, as `@fastify/session` documents, and every misuse below must be
 * a type error (`@ts-expect-error` fails the typecheck when the line is accepted).
 */
import type { FastifyInstance } from 'fastify';
import { type DynamoDBSessionsOptions, DynamoDBStore, dynamodbSessions } from '../../adapters/fastify.ts';

declare module 'fastify' {
  interface Session {
    profile?: { id: string; roles: string[] };
  }
}

export async function typecheck(app: FastifyInstance): Promise<void> {
  await app.register(dynamodbSessions, {
    secret: 'a secret of at least thirty-two characters',
    tableName: 'sessions',
    touchAfter: 600,
    cookie: { maxAge: 86_400_000, secure: 'auto' },
    rolling: true,
    saveUninitialized: false,
    // the engine's userId sees the declared session
    userId: (session) => session.profile?.id,
  });

  // @ts-expect-error secret is required
  await app.register(dynamodbSessions, { tableName: 'sessions' });
  // @ts-expect-error touchAfter is a number of seconds
  const badTouch: DynamoDBSessionsOptions = { secret: 's', touchAfter: '1h' };
  // @ts-expect-error the userId callback must return a string or undefined
  const badUser: DynamoDBSessionsOptions = { secret: 's', userId: (s) => s.profile };
  // @ts-expect-error an option that neither the engine nor @fastify/session has
  const unknownOption: DynamoDBSessionsOptions = { secret: 's', tabelName: 'typo' };

  app.get('/', async (request) => {
    request.session.profile = { id: 'u1', roles: ['admin'] };
    // @ts-expect-error roles is a string[]
    request.session.profile = { id: 'u1', roles: 'admin' };
    // @ts-expect-error a key the Session interface does not declare
    request.session.set('profle', { id: 'u1', roles: [] });
    const id: string | undefined = request.session.get('profile')?.id;
    // @ts-expect-error the value read back keeps its declared type
    const wrong: number | undefined = request.session.get('profile')?.id;
    return { id, wrong, sid: request.session.sessionId };
  });

  // the plugin's store is on the instance, typed
  const store: DynamoDBStore = app.dynamodbStore;
  store.engine.stats();
  new DynamoDBStore({ tableName: 'sessions', userId: (session) => session.profile?.id });
  void [badTouch, badUser, unknownOption];
}
