/** The Express 5 + express-session server, with one of the compared stores. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import express from 'express';
import session from 'express-session';
import type { CommandCounter } from '../counter.ts';
import type { BenchApp, ServerConfig } from '../server.ts';
import { loadConnectDynamoDB, loadPwrdrvr, RawExpressStore } from '../stores.ts';
import { type AppSession, accountView, applyWrite, cookieSecret, sessionData } from '../workload.ts';
import { builtAdapter, int, listen, maxAgeMs } from './common.ts';
import { ourStore } from './ours.ts';

const { DynamoDBStore } = await builtAdapter('express');

function makeStore(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
  notes: string[],
): session.Store {
  const table = config.table;
  const touchAfter = config.touchAfter === undefined ? {} : { touchAfter: config.touchAfter };
  const ours = ourStore(DynamoDBStore, config, client, counter);
  if (ours) return ours;
  switch (config.store) {
    case 'ours-capture':
      return new DynamoDBStore({ client, tableName: table });
    case 'memory':
      return new session.MemoryStore();
    case 'raw':
      return new RawExpressStore(client, table);
    case 'connect-dynamodb':
      return new (loadConnectDynamoDB())({ client, table });
    case 'pwrdrvr': {
      const loaded = loadPwrdrvr();
      if (loaded.note) notes.push(loaded.note);
      return new loaded.value({ dynamoDBClient: client, tableName: table, ...touchAfter });
    }
  }
  throw new Error(`unknown express store ${config.store}`);
}

export async function expressApp(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<BenchApp> {
  const notes: string[] = [];
  const store = makeStore(config, client, counter, notes);
  const app = express();
  app.set('etag', false);
  app.set('x-powered-by', false);
  app.use(
    session({
      store,
      secret: cookieSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: maxAgeMs },
    }),
  );
  app.post('/login', (req, res) => {
    Object.assign(req.session, sessionData(int(req.query.u), config.sessionBytes));
    res.json({ ok: true });
  });
  app.get('/account', (req, res) => {
    const s = req.session as unknown as Partial<AppSession>;
    if (!s.user) res.status(401).json({ error: 'no session' });
    else res.json(accountView(s as AppSession));
  });
  app.post('/cart', (req, res) => {
    const s = req.session as unknown as Partial<AppSession>;
    if (!s.user) {
      res.status(401).json({ error: 'no session' });
      return;
    }
    applyWrite(s as AppSession, int(req.query.k), int(req.query.q), int(req.query.n));
    res.json({ ok: true, rev: (s as AppSession).cart.rev });
  });

  // Seeding: the store's own `set`, as on a login's save, with a client that keeps each PutItem's
  // input instead of sending it (batch-written afterwards); a document client needs the real stack.
  const captured: Record<string, unknown>[] = [];
  const capturing = {
    send: async (command: { input: Record<string, unknown>; constructor: { name: string } }) => {
      if (command.constructor.name === 'PutItemCommand') captured.push(command.input);
      return { $metadata: {} };
    },
  } as unknown as DynamoDBClient;
  let seedStore: session.Store | undefined;
  const seed = async (sids: string[], first: number): Promise<Record<string, unknown>[]> => {
    if (config.store === 'memory' || config.store === 'pwrdrvr') seedStore = store;
    seedStore ??= makeStore(
      { ...config, store: config.store === 'ours' ? 'ours-capture' : config.store },
      capturing,
      counter,
      [],
    );
    const target = seedStore;
    const expires = new Date(Date.now() + maxAgeMs).toISOString();
    await Promise.all(
      sids.map((sid, i) => {
        const cookie = { originalMaxAge: maxAgeMs, expires, httpOnly: true, path: '/' };
        const sess = target.createSession(
          { sessionID: sid } as never,
          { cookie, ...sessionData(first + i, config.sessionBytes) } as never,
        );
        return new Promise<void>((resolve, reject) =>
          target.set(sid, sess, (err) => (err ? reject(err) : resolve())),
        );
      }),
    );
    return captured.splice(0);
  };
  return {
    listen: () => listen(app),
    seed,
    notes,
    ...(store instanceof DynamoDBStore && { engineStats: () => store.engine.stats() }),
  };
}
