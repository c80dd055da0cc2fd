/**
 * Loaded with `--import` after tsx: every import of `@aws-sdk/client-dynamodb` in the process, the
 * store's and the tests', gets the oldest version the package accepts (the devDependency
 * `client-dynamodb-oldest`), one copy for all, as an app pinned to that version has it.
 * Fails at once when the redirection does not take.
 */
import { readFileSync } from 'node:fs';
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === '@aws-sdk/client-dynamodb' || specifier.startsWith('@aws-sdk/client-dynamodb/'))
    return next(specifier.replace('@aws-sdk/client-dynamodb', 'client-dynamodb-oldest'), context);
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url);

/** The version of `@aws-sdk/client-dynamodb` that an import from this folder gets. */
export function loadedSdkVersion(): string {
  let dir = fileURLToPath(import.meta.resolve('@aws-sdk/client-dynamodb'));
  for (;;) {
    const up = dir.slice(0, dir.lastIndexOf('/'));
    if (up === dir) throw new Error('no package.json above @aws-sdk/client-dynamodb');
    dir = up;
    try {
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@aws-sdk/client-dynamodb' && pkg.version) return pkg.version;
    } catch {
      // no package.json here: one folder up
    }
  }
}

const wanted = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    devDependencies: Record<string, string>;
  }
).devDependencies['client-dynamodb-oldest']?.replace(/^npm:@aws-sdk\/client-dynamodb@/, '');
if (loadedSdkVersion() !== wanted)
  throw new Error(`@aws-sdk/client-dynamodb ${loadedSdkVersion()} is loaded, not the oldest (${wanted})`);
