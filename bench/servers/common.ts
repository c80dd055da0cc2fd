/** What the framework servers share. */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Sessions live a day; the cookie says so (`maxAge`, ms). */
export const maxAgeMs = 86_400_000;

/** Serves `handler` on 127.0.0.1 on a free port; resolves to the port. */
export function listen(handler: RequestListener): Promise<number> {
  const server = createServer(handler);
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** A query parameter as an integer (0 when absent). */
export function int(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

/** How every client of the benchmark reaches DynamoDB Local. */
export function connection(config: { endpoint: string }): {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
} {
  return {
    region: 'us-east-1',
    endpoint: config.endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

/** This package's adapters, as their types. */
interface Adapters {
  express: typeof import('../../adapters/express.ts');
  fastify: typeof import('../../adapters/fastify.ts');
  koa: typeof import('../../adapters/koa.ts');
  hono: typeof import('../../adapters/hono.ts');
  'react-router': typeof import('../../adapters/react-router.ts');
}

/**
 * This package's store for a framework as users run it: from the built `dist/` (`npm run bench`
 * builds it first when it is older than the sources), not the TypeScript sources through tsx.
 */
export function builtAdapter<K extends keyof Adapters>(framework: K): Promise<Adapters[K]> {
  const file = fileURLToPath(new URL(`../../dist/${framework}.js`, import.meta.url));
  return import(pathToFileURL(file).href) as Promise<Adapters[K]>;
}
