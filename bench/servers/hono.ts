/**
 * The Hono 4 + hono-sessions server on @hono/node-server, configured as docs/hono.md advises
 * (`expireAfterSeconds`, `autoExtendExpiration` on, no `encryptionKey`: the cookie holds a random id,
 * and sealing it costs more CPU than the rest of the request): the middleware hands every request's
 * session back to the store, its access time and expiry moved.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { MemoryStore, type Session, type Store, sessionMiddleware } from 'hono-sessions';
import type { CommandCounter } from '../counter.ts';
import type { BenchApp, ServerConfig } from '../server.ts';
import { RawHonoStore } from '../stores.ts';
import { type AppSession, accountView, applyWrite, sessionData } from '../workload.ts';
import { builtAdapter, int, listen, maxAgeMs } from './common.ts';
import { ourStore } from './ours.ts';

async function makeStore(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<Store> {
  if (config.store.startsWith('ours')) {
    const { DynamoDBStore } = await builtAdapter('hono');
    const ours = ourStore(DynamoDBStore, config, client, counter);
    if (ours) return ours;
  }
  switch (config.store) {
    case 'memory':
      return new MemoryStore();
    case 'raw':
      return new RawHonoStore(client, config.table);
  }
  throw new Error(`unknown hono store ${config.store}`);
}

type Env = { Variables: { session: Session<AppSession> } };

/** The session's values by key, as the app reads them (`session.get`): the live values, not copies. */
function view(session: Session<AppSession>): Partial<AppSession> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(session.getCache()._data)) out[key] = session.get(key as keyof AppSession);
  return out as Partial<AppSession>;
}

export async function honoApp(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<BenchApp> {
  const store = await makeStore(config, client, counter);
  const app = new Hono<Env>();
  app.use(
    '*',
    sessionMiddleware({
      store,
      expireAfterSeconds: maxAgeMs / 1000,
      cookieOptions: { sameSite: 'Lax', path: '/', httpOnly: true },
    }),
  );
  app.post('/login', (c) => {
    const session = c.get('session');
    const fresh = sessionData(int(c.req.query('u')), config.sessionBytes);
    for (const [key, value] of Object.entries(fresh)) session.set(key as keyof AppSession, value as never);
    return c.json({ ok: true });
  });
  app.get('/account', (c) => {
    const s = view(c.get('session'));
    if (!s.user) return c.json({ error: 'no session' }, 401);
    return c.json(accountView(s as AppSession));
  });
  app.post('/cart', (c) => {
    const session = c.get('session');
    const s = view(session);
    if (!s.user) return c.json({ error: 'no session' }, 401);
    applyWrite(s as AppSession, int(c.req.query('k')), int(c.req.query('q')), int(c.req.query('n')));
    // the cart was changed in place; `flash` and `visits` are new values
    session.set('flash', (s as AppSession).flash);
    session.set('visits', (s as AppSession).visits);
    return c.json({ ok: true, rev: (s as AppSession).cart.rev });
  });
  const engine = (store as { engine?: { stats(): unknown } }).engine;
  return {
    listen: () => listen(getRequestListener(app.fetch)),
    notes: [],
    ...(engine && { engineStats: () => engine.stats() }),
  };
}
