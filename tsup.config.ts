import { defineConfig } from 'tsup';

// the frameworks are the user's own (optional peer dependencies): never bundled
const external = [
  'express-session',
  'koa',
  'koa-session',
  'fastify',
  '@fastify/session',
  '@fastify/cookie',
  'fastify-plugin',
  'react-router',
  'hono',
  'hono-sessions',
];

export default defineConfig([
  {
    entry: {
      index: 'src/index.ts',
      express: 'adapters/express.ts',
      fastify: 'adapters/fastify.ts',
      koa: 'adapters/koa.ts',
      'react-router': 'adapters/react-router.ts',
      hono: 'adapters/hono.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    // one shared chunk: the CJS subpaths share one copy of the error classes, so instanceof works
    splitting: true,
    // keep the CLI, built by the second config at the same time
    clean: ['!cli.js'],
    sourcemap: false,
    target: 'node20',
    outDir: 'dist',
    external,
  },
  {
    entry: { cli: 'cli/main.ts' },
    format: ['esm'],
    dts: false,
    splitting: false,
    clean: false,
    sourcemap: false,
    target: 'node20',
    outDir: 'dist',
    external,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
