/**
 * The version of `react-router` this process loads: React Router 8 (the devDependency), or 7 when
 * test/react-router-7.ts redirects every import of it. Imports nothing of React Router itself, so
 * that the redirection can use it before anything is loaded.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The version in the package.json of the `react-router` an import gets here (redirections included). */
export function loadedReactRouterVersion(): string {
  let dir = fileURLToPath(import.meta.resolve('react-router'));
  for (;;) {
    const up = dir.slice(0, dir.lastIndexOf('/'));
    if (up === dir || up === '') throw new Error('no package.json above react-router');
    dir = up;
    try {
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
        name?: string;
        version?: string;
      };
      // the alias react-router-7 is installed under its own folder with the package's own name
      if (pkg.name === 'react-router' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: one folder up
    }
  }
}

/** The major version of React Router this process is meant to run on: 7 when redirected, else the devDependency's. */
export function expectedReactRouterMajor(): number {
  if (process.execArgv.some((arg) => arg.endsWith('react-router-7.ts'))) return 7;
  const { devDependencies } = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { devDependencies: Record<string, string> };
  return Number(/\d+/.exec(devDependencies['react-router'] ?? '')?.[0]);
}
