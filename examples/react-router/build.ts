/**
 * The server build, written by hand: what `react-router build` (@react-router/dev, on Vite) generates
 * from `app/routes.ts`. The route modules are the same as in such an app; with no client bundle, the
 * browser manifest names no JavaScript modules.
 */
import type { ServerBuild } from 'react-router';
import * as entry from './app/entry.server.ts';
import * as root from './app/root.ts';
import * as home from './app/routes/home.ts';
import * as login from './app/routes/login.ts';
import * as logout from './app/routes/logout.ts';
import * as logoutOthers from './app/routes/logout-others.ts';

type ServerRoute = NonNullable<ServerBuild['routes'][string]>;
type RouteModule = ServerRoute['module'];

/**
 * A route with an action and no component (a resource route): its answer is what the action returns.
 * React Router's type asks every route module for a component; the runtime goes by its absence.
 */
const resourceRoute = (module: Pick<RouteModule, 'action' | 'loader'>) => module as RouteModule;

const routes: ServerRoute[] = [
  { id: 'root', path: '', module: root },
  { id: 'routes/home', parentId: 'root', index: true, module: home },
  { id: 'routes/login', parentId: 'root', path: 'login', module: resourceRoute(login) },
  { id: 'routes/logout', parentId: 'root', path: 'logout', module: resourceRoute(logout) },
  {
    id: 'routes/logout-others',
    parentId: 'root',
    path: 'logout-others',
    module: resourceRoute(logoutOthers),
  },
];

/** What the browser would be told of a route: here only what the server renders from it. */
function browserRoute({
  module,
  ...route
}: ServerRoute): NonNullable<ServerBuild['assets']['routes'][string]> {
  return {
    ...route,
    module: '',
    hasAction: 'action' in module,
    hasLoader: 'loader' in module,
    hasClientAction: false,
    hasClientLoader: false,
    hasClientMiddleware: false,
    hasErrorBoundary: 'ErrorBoundary' in module,
    clientActionModule: undefined,
    clientLoaderModule: undefined,
    clientMiddlewareModule: undefined,
    hydrateFallbackModule: undefined,
  };
}

export const build: ServerBuild = {
  entry: { module: entry },
  routes: Object.fromEntries(routes.map((route) => [route.id, route])),
  assets: {
    entry: { module: '', imports: [] },
    routes: Object.fromEntries(routes.map((route) => [route.id, browserRoute(route)])),
    url: '',
    version: '1',
  },
  publicPath: '/',
  assetsBuildDirectory: '',
  future: {},
  ssr: true,
  isSpaMode: false,
  prerender: [],
  routeDiscovery: { mode: 'initial', manifestPath: '/__manifest' },
};
