/** The root route: the document around every page. No `<Scripts />`: this demo sends no JavaScript. */
import { createElement as h } from 'react';
import { isRouteErrorResponse, Links, Meta, type MetaFunction, Outlet, useRouteError } from 'react-router';

export const meta: MetaFunction = () => [{ title: 'dynamodb-sessions: React Router' }];

function Document({ children }: { children: React.ReactNode }) {
  return h(
    'html',
    { lang: 'en' },
    h('head', null, h('meta', { charSet: 'utf-8' }), h(Meta), h(Links)),
    h('body', null, children),
  );
}

export default function Root() {
  return h(Document, null, h(Outlet));
}

/**
 * An unknown URL is a 404 route error response. A store error is answered with its status (503 when
 * DynamoDB fails); in production React Router hides its details from the browser, the log has them.
 */
export function ErrorBoundary() {
  const error = useRouteError();
  const title = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : 'The server could not answer this request';
  return h(Document, null, h('h1', null, title), h('p', null, h('a', { href: '/' }, 'Try again')));
}
