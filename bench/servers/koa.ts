/** The Koa 3 + koa-session server (its defaults: saves only a changed session). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import Koa from 'koa';
import createSession from 'koa-session';
import type { CommandCounter } from '../counter.ts';
import type { BenchApp, ServerConfig } from '../server.ts';
import { RawKoaStore } from '../stores.ts';
import { type AppSession, accountView, applyWrite, cookieSecret, sessionData } from '../workload.ts';
import { builtAdapter, int, listen, maxAgeMs } from './common.ts';
import { ourStore } from './ours.ts';

async function makeStore(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<object | undefined> {
  if (config.store.startsWith('ours')) {
    const { DynamoDBStore } = await builtAdapter('koa');
    const ours = ourStore(DynamoDBStore, config, client, counter);
    if (ours) return ours;
  }
  switch (config.store) {
    case 'cookie':
      return undefined; // koa-session's default: the session is the cookie
    case 'raw':
      return new RawKoaStore(client, config.table);
  }
  throw new Error(`unknown koa store ${config.store}`);
}

export async function koaApp(
  config: ServerConfig,
  client: DynamoDBClient,
  counter: CommandCounter,
): Promise<BenchApp> {
  const store = await makeStore(config, client, counter);
  const app = new Koa();
  app.keys = [cookieSecret];
  app.use(createSession({ maxAge: maxAgeMs, ...(store && { store: store as never }) }, app));
  app.use(async (ctx) => {
    const s = ctx.session as unknown as Partial<AppSession> | null;
    if (ctx.method === 'POST' && ctx.path === '/login' && ctx.session) {
      Object.assign(ctx.session, sessionData(int(ctx.query.u), config.sessionBytes));
      ctx.body = { ok: true };
    } else if (!s?.user) {
      ctx.status = 401;
      ctx.body = { error: 'no session' };
    } else if (ctx.method === 'GET' && ctx.path === '/account') {
      ctx.body = accountView(s as AppSession);
    } else if (ctx.method === 'POST' && ctx.path === '/cart') {
      applyWrite(s as AppSession, int(ctx.query.k), int(ctx.query.q), int(ctx.query.n));
      ctx.body = { ok: true, rev: (s as AppSession).cart.rev };
    } else ctx.status = 404;
  });
  const engine = (store as { engine?: { stats(): unknown } } | undefined)?.engine;
  return {
    listen: () => listen(app.callback()),
    notes: [],
    ...(engine && { engineStats: () => engine.stats() }),
  };
}
