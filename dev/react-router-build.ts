/**
 * A React Router server build written by hand: what `react-router build` (@react-router/dev, on Vite)
 * generates from an app's routes, with no client bundle (the browser manifest names no JavaScript
 * modules). Used by the React Router example, the benchmark's server and the model test's app, which
 * run without a bundler.
 */
import type { ServerBuild } from 'react-router';

/** A route of the build: its id, place and module. */
export type ServerRoute = NonNullable<ServerBuild['routes'][string]>;
/** A route module: `loader`, `action`, `default` (the component), `ErrorBoundary`... */
export type RouteModule = ServerRoute['module'];

/**
 * A route module with a loader or an action and no component (a resource route): its answer is what
 * they return. React Router's type asks every route module for a component; the runtime goes by its
 * absence.
 */
export const resourceRoute = (module: Partial<Pick<RouteModule, 'action' | 'loader'>>): RouteModule =>
  module as RouteModule;

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

/** The server build of `routes` (the first is the root), answered through `entry` (entry.server). */
export function serverBuild(routes: ServerRoute[], entry: ServerBuild['entry']['module']): ServerBuild {
  return {
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
}
