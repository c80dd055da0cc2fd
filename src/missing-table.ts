/**
 * What to do when the table is missing: the advice a `ResourceNotFoundException` gets, naming the
 * table, where the client looked for it (region, endpoint) and the command that creates it. It is
 * the operator's: it goes to the error's `advice` and the debug log, never into its message, which
 * can reach a visitor.
 */
import { DEFAULTS } from './defaults.js';
import type { ResolvedOptions } from './options.js';

/** The parts of an SDK client's resolved configuration read here (a provider or a value each). */
interface ClientConfigView {
  region?: unknown;
  endpoint?: unknown;
}

/** A provider (`() => Promise<T>`), or the value itself, resolved; `undefined` when it fails. */
async function provided(value: unknown): Promise<unknown> {
  try {
    return typeof value === 'function' ? await (value as () => unknown)() : value;
  } catch {
    return undefined;
  }
}

/** The endpoint as a URL string, from the shapes the SDK keeps it in. */
function endpointUrl(endpoint: unknown): string | undefined {
  if (typeof endpoint === 'string') return endpoint;
  if (endpoint instanceof URL) return endpoint.href;
  if (!endpoint || typeof endpoint !== 'object') return undefined;
  const url = Reflect.get(endpoint, 'url');
  if (url instanceof URL) return url.href;
  const hostname = Reflect.get(endpoint, 'hostname');
  if (typeof hostname !== 'string') return undefined;
  const protocol = String(Reflect.get(endpoint, 'protocol') ?? 'https:').replace(/:?$/, ':');
  const port = Reflect.get(endpoint, 'port');
  return `${protocol}//${hostname}${port ? `:${port}` : ''}${String(Reflect.get(endpoint, 'path') ?? '')}`;
}

/** Where a client sends its calls: its region, and its endpoint when one was set. */
export async function whereOf(client: { config?: unknown } | undefined): Promise<{
  region?: string;
  endpoint?: string;
}> {
  const config = (client?.config ?? {}) as ClientConfigView;
  const region = await provided(config.region);
  const endpoint = endpointUrl(await provided(config.endpoint));
  return {
    ...(typeof region === 'string' && region && { region }),
    ...(endpoint && { endpoint: endpoint.replace(/\/$/, '') }),
  };
}

/** The advice for a missing table: which table, where, and how to create it. @internal */
export function missingTableAdvice(
  o: Pick<ResolvedOptions<unknown>, 'tableName' | 'hashKey' | 'expiresAttribute'>,
  where: { region?: string; endpoint?: string },
): string {
  const at = [
    `--table ${o.tableName}`,
    ...(where.region ? [`--region ${where.region}`] : []),
    ...(where.endpoint ? [`--endpoint ${where.endpoint}`] : []),
  ];
  const shape = [
    ...(o.hashKey === DEFAULTS.hashKey ? [] : [[`--hash-key ${o.hashKey}`, `hashKey: '${o.hashKey}'`]]),
    ...(o.expiresAttribute === DEFAULTS.expiresAttribute
      ? []
      : [[`--ttl-attribute ${o.expiresAttribute}`, `expiresAttribute: '${o.expiresAttribute}'`]]),
  ];
  const place = [
    where.region && `region ${where.region}`,
    where.endpoint && `endpoint ${where.endpoint}`,
  ].filter(Boolean);
  const options = [`tableName: '${o.tableName}'`, ...shape.map(([, option]) => option)].join(', ');
  const flags = [...at, ...shape.map(([flag]) => flag)].join(' ');
  return (
    `The table "${o.tableName}" does not exist${place.length ? ` (${place.join(', ')})` : ''}. ` +
    `Create it with: npx dynamodb-sessions create-table ${flags} ` +
    `(or createTable(client, { ${options} }) in code); ` +
    `npx dynamodb-sessions doctor ${flags} checks it.`
  );
}
