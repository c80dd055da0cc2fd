/**
 * The server build, written by hand: what `react-router build` (@react-router/dev, on Vite) generates
 * from `app/routes.ts`. The route modules are the same as in such an app; with no client bundle, the
 * browser manifest names no JavaScript modules.
 */
import { resourceRoute, type ServerRoute, serverBuild } from '../../dev/react-router-build.ts';
import * as entry from './app/entry.server.ts';
import * as root from './app/root.ts';
import * as home from './app/routes/home.ts';
import * as login from './app/routes/login.ts';
import * as logout from './app/routes/logout.ts';
import * as logoutOthers from './app/routes/logout-others.ts';

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

export const build = serverBuild(routes, entry);
