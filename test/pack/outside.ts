/**
 * The folders outside the repository where the packed tarball is installed, as users install it:
 * one for the outside apps of pack.check.ts, and one new `"type": "module"` app per README app for
 * readme.check.ts, with exactly the packages of the README's Install section. `prepare()` packs and
 * installs once, before the checks run (test/pack/run.ts), so that the checks' time is their own.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { endpoint } from '../integration/helpers.ts';
import { frameworkOf, installGroups, readme, root, snippets } from './readme.ts';

/** Outside the repository, so that nothing resolves through its node_modules; one per checkout. */
export const outsideDir = join(
  tmpdir(),
  `dynamodb-sessions-outside-${createHash('sha256').update(root).digest('hex').slice(0, 8)}`,
);
const manifestPath = join(outsideDir, 'manifest.json');

export interface ReadmeApp {
  /** The README's file, e.g. `examples/readme/koa.ts`, copied as `app.ts`. */
  path: string;
  /** `express`, `fastify`, `koa`, `react-router` or `hono`. */
  framework: string;
  folder: string;
  /** What was installed there. */
  packages: string[];
}

export interface Outside {
  tarball: string;
  /** The tarball's files (`package/dist/index.js`, ...). */
  packed: string[];
  /** The folder of pack.check.ts's outside apps. */
  appsFolder: string;
  readmeApps: ReadmeApp[];
}

/**
 * `name@version` with the version this repository has installed, so that npm can use its cache.
 * React Router 8 needs Node.js 22.22 or later (its `engines`): on an older Node.js, the React Router
 * 7 this repository also installs (as `react-router-7`).
 */
function pinned(name: string): string {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const folder = name === 'react-router' && major * 100 + minor < 2222 ? 'react-router-7' : name;
  const manifest = join(root, 'node_modules', folder, 'package.json');
  return `${name}@${JSON.parse(readFileSync(manifest, 'utf8')).version}`;
}

const run = promisify(execFile);

async function install(folder: string, packages: string[]): Promise<void> {
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packages], {
    cwd: folder,
    maxBuffer: 16 * 1024 * 1024,
  });
}

/** Packs the package from a tree without `dist/` (as a fresh clone is) and installs it outside. */
export async function prepare(): Promise<Outside> {
  rmSync(outsideDir, { recursive: true, force: true });
  mkdirSync(outsideDir);
  // as in a fresh clone: nothing built, so prepack must build it
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', outsideDir], { cwd: root });
  const tarball = join(outsideDir, out.toString().trim().split('\n').pop() ?? '');
  const packed = execFileSync('tar', ['-tzf', tarball]).toString().trim().split('\n');

  const appsFolder = join(outsideDir, 'apps');
  mkdirSync(appsFolder);
  writeFileSync(join(appsFolder, 'package.json'), JSON.stringify({ name: 'outside-app', private: true }));
  const appPackages = [
    ...['@aws-sdk/client-dynamodb', 'express', 'express-session', 'fastify'].map(pinned),
    ...['@fastify/session', '@fastify/cookie', 'fastify-plugin', 'koa', 'koa-session'].map(pinned),
    ...['hono', 'hono-sessions', '@hono/node-server', 'react-router', 'react'].map(pinned),
  ];

  const text = readme();
  const { common, frameworks } = installGroups(text);
  const readmeApps = snippets(text).map(({ path }): ReadmeApp => {
    const framework = frameworkOf(path);
    const folder = join(outsideDir, `readme-${basename(path, '.ts')}`);
    const names = [...common, ...(frameworks.get(framework) ?? [])];
    const packages = names.map((name) => (name === 'dynamodb-sessions' ? tarball : pinned(name)));
    mkdirSync(folder);
    // what `npm init -y && npm pkg set type=module` gives
    writeFileSync(
      join(folder, 'package.json'),
      JSON.stringify({ name: `readme-${framework}`, private: true, type: 'module' }),
    );
    copyFileSync(join(root, path), join(folder, 'app.ts'));
    return { path, framework, folder, packages };
  });

  await Promise.all([
    install(appsFolder, [tarball, ...appPackages]),
    ...readmeApps.map((app) => install(app.folder, app.packages)),
  ]);
  const outside: Outside = { tarball, packed, appsFolder, readmeApps };
  writeFileSync(manifestPath, JSON.stringify(outside, null, 2));
  return outside;
}

/** What `prepare()` made; the checks need it. */
export function outside(): Outside {
  if (!existsSync(manifestPath)) {
    throw new Error('the package is not installed outside: run the pack checks with npm run test:pack');
  }
  return JSON.parse(readFileSync(manifestPath, 'utf8'));
}

export function cleanUp(): void {
  rmSync(outsideDir, { recursive: true, force: true });
}

/** The environment docs/dynamodb-local.md tells users to set, for the run's DynamoDB Local. */
export async function localDynamoDB(): Promise<NodeJS.ProcessEnv> {
  return {
    AWS_ENDPOINT_URL_DYNAMODB: await endpoint(),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
