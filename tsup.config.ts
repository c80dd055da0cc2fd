import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    express: 'adapters/express.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  // one shared chunk: the CJS subpaths share one copy of the error classes, so instanceof works
  splitting: true,
  clean: true,
  sourcemap: false,
  target: 'node20',
  outDir: 'dist',
});
