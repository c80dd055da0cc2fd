/** Renders each page on the server (a real app's `app/entry.server.tsx`). */
import { createElement } from 'react';
import { renderToReadableStream } from 'react-dom/server';
import { type EntryContext, isRouteErrorResponse, ServerRouter } from 'react-router';

export default async function handleRequest(
  request: Request,
  status: number,
  headers: Headers,
  routerContext: EntryContext,
): Promise<Response> {
  let statusCode = status;
  const body = await renderToReadableStream(
    createElement(ServerRouter, { context: routerContext, url: request.url }),
    {
      signal: request.signal,
      onError(error) {
        statusCode = 500;
        console.error(error);
      },
    },
  );
  // the whole page at once: without client JavaScript nothing could fill in a streamed part
  await body.allReady;
  headers.set('Content-Type', 'text/html; charset=utf-8');
  return new Response(body, { status: statusCode, headers });
}

/**
 * Logs what failed: a store error comes as a route error response (status 503) with the error itself
 * in `error`. A URL no route matches (a browser's /favicon.ico) is answered 404 and not logged.
 */
export function handleError(error: unknown, { request }: { request: Request }): void {
  if (request.signal.aborted || (isRouteErrorResponse(error) && error.status === 404)) return;
  console.error(isRouteErrorResponse(error) && 'error' in error ? error.error : error);
}
