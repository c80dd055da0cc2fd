/**
 * The README as a new user follows it, with the packed tarball: its Express, Fastify, Koa, React
 * Router and Hono apps, each in a new `"type": "module"` app with exactly the Install section's
 * packages (outside.ts), type-checked with `tsc --strict` and run with `tsx` on DynamoDB Local as the
 * README and docs/dynamodb-local.md say; and its links, as they work on the package's page.
 * Run: npm run test:pack.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../../dev/dynamodb-local.ts';
import { CookieJar, request } from '../integration/helpers.ts';
import { localDynamoDB, outside } from './outside.ts';
import { links, repository, root } from './readme.ts';

const { readmeApps: apps, packed } = outside();
const run = promisify(execFile);

describe('the README, followed by a new user with the packed tarball', () => {
  const secrets = {
    SESSION_SECRET: randomBytes(32).toString('base64'),
    SESSION_KEY: randomBytes(32).toString('base64'),
  };

  /** Runs a command of an app's own node_modules; its output when it fails. */
  async function npx(folder: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
    try {
      const { stdout } = await run('npx', ['--no-install', ...args], { cwd: folder, env });
      return stdout;
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      assert.fail(`in ${folder}: npx ${args.join(' ')}\n${stdout}${stderr}`);
    }
  }

  test('each app type-checks with tsc --strict, and with the tsconfig of tsc --init', async () => {
    await Promise.all(
      apps.map(async ({ folder }) => {
        // no skipLibCheck: the packages' own declarations must agree with each other too
        await npx(folder, [
          'tsc',
          '--strict',
          '--noEmit',
          '--module',
          'nodenext',
          '--target',
          'es2022',
          'app.ts',
        ]);
        // the README says tsc --init's tsconfig (strict, nodenext) suits them once its "types": [] names
        // Node.js's types, which an app that reads process.env needs
        await npx(folder, ['tsc', '--init']);
        const tsconfig = join(folder, 'tsconfig.json');
        const init = readFileSync(tsconfig, 'utf8');
        assert.match(init, /"types": \[\],/, 'tsc --init writes "types": []');
        writeFileSync(tsconfig, init.replace(/"types": \[\],/, '"types": ["node"],'));
        await npx(folder, ['tsc', '--noEmit', '-p', '.']);
      }),
    );
  });

  test('each app runs with tsx on DynamoDB Local as the README says: log in, then the session has the user', async () => {
    const env = { ...process.env, ...(await localDynamoDB()) };
    const first = apps[0];
    assert.ok(first, 'there are apps');
    // the README's recipe: the CLI creates the table where the environment points
    await npx(first.folder, ['dynamodb-sessions', 'create-table', '--table', 'sessions'], env);
    await Promise.all(
      apps.map(async ({ framework, folder }) => {
        const port = await freePort();
        // its own process group: npx runs tsx through a shell that would not pass a signal on
        const child = spawn('npx', ['--no-install', 'tsx', 'app.ts'], {
          cwd: folder,
          env: { ...env, ...secrets, PORT: String(port) },
          stdio: ['ignore', 'inherit', 'inherit'],
          detached: true,
        });
        try {
          const base = `http://localhost:${port}`;
          await waitForServer(base, child);
          const jar = new CookieJar();
          const login = await fetch(`${base}/login`, { method: 'POST', redirect: 'manual' });
          jar.store(login);
          assert.ok([302, 303].includes(login.status), `${framework}: /login redirects (${login.status})`);
          const ada = { user: { id: '42', name: 'Ada' } };
          assert.deepEqual((await request(base, '/', jar)).body, ada, framework);
          assert.deepEqual((await request(base, '/', new CookieJar())).body, { user: null }, framework);
        } finally {
          if (child.pid) process.kill(-child.pid, 'SIGTERM');
        }
      }),
    );
  });

  test('each app with a secret stops at once, naming the variable, when it is not set', async () => {
    // the Hono app has none: its cookie holds a random id, unsealed
    const withSecret = apps.filter(({ framework }) => framework !== 'hono');
    assert.ok(withSecret.length >= 4, 'the Express, Fastify, Koa and React Router apps');
    await Promise.all(
      withSecret.map(async ({ framework, folder }) => {
        const env = { ...process.env, SESSION_SECRET: '', SESSION_KEY: '' };
        const failed = await run('npx', ['--no-install', 'tsx', 'app.ts'], {
          cwd: folder,
          env,
          timeout: 60_000,
        }).then(
          () => assert.fail(`${framework}: the app ran without its secret`),
          (err: { code?: unknown; stderr?: string }) => err,
        );
        assert.ok(
          typeof failed.code === 'number' && failed.code !== 0,
          `${framework}: exit code ${failed.code}`,
        );
        assert.match(failed.stderr ?? '', /Set SESSION_(SECRET|KEY) to a/, framework);
      }),
    );
  });

  test('its links work on the package page: relative ones reach a shipped file, the others the repository', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    assert.equal(pkg.homepage, `${repository}#readme`);
    assert.equal(pkg.bugs?.url, `${repository}/issues`);
    assert.equal(pkg.repository?.url, `git+${repository}.git`);
    const shipped = packed.filter((f) => f.endsWith('.md')).map((f) => f.replace(/^package\//, ''));
    assert.ok(shipped.includes('README.md') && shipped.includes('docs/dynamodb-local.md'), shipped.join(' '));
    for (const file of shipped) {
      for (const target of links(readFileSync(join(root, file), 'utf8'))) {
        const path = target.split('#')[0] ?? '';
        if (/^https?:/.test(target)) {
          if (!target.startsWith(`${repository}/`)) continue;
          const inRepo = /^(?:blob|tree)\/main\/(.+)$/.exec(
            target.slice(repository.length + 1).split('#')[0] ?? '',
          )?.[1];
          assert.ok(
            inRepo && existsSync(join(root, inRepo)),
            `${file}: ${target} is a file of the repository`,
          );
        } else if (path === '') {
          const anchors = headings(readFileSync(join(root, file), 'utf8'));
          assert.ok(anchors.has(target.slice(1)), `${file}: ${target} is a heading`);
        } else {
          const resolved = join(dirname(file), path);
          assert.ok(
            packed.includes(`package/${resolved}`),
            `${file}: ${target} is in the package (or make it absolute)`,
          );
        }
      }
    }
  });
});

/** The anchors GitHub and npm give a Markdown file's headings. */
function headings(text: string): Set<string> {
  const slug = (title: string) =>
    title
      .toLowerCase()
      .replace(/[^a-z0-9 _-]/g, '')
      .replace(/ /g, '-');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1] ?? '')));
}

/** Waits until a server answers at `base` (60 s at most), or fails if its process ends. */
async function waitForServer(base: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    assert.equal(child.exitCode, null, `the app at ${base} exited`);
    const up = await fetch(base, { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    );
    if (up) return;
    assert.ok(Date.now() < deadline, `nothing answers at ${base}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
