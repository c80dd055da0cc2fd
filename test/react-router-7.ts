/**
 * Loaded with `--import` after tsx: every import of `react-router` in the process, the adapter's
 * and the tests', gets React Router 7 (the devDependency `react-router-7`), one copy for all, as an
 * app on React Router 7 has it. Fails at once when the redirection does not take.
 */
import { register } from 'node:module';
import { loadedReactRouterVersion } from './integration/react-router-version.ts';

const hooks = `
export async function resolve(specifier, context, next) {
  if (specifier === 'react-router' || specifier.startsWith('react-router/'))
    return next('react-router-7' + specifier.slice('react-router'.length), context);
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, import.meta.url);

const loaded = loadedReactRouterVersion();
if (!loaded.startsWith('7.')) throw new Error(`react-router ${loaded} is loaded, not React Router 7`);
