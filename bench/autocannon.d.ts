/** The part of autocannon 9's API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  export interface RequestParams {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }
  export interface Request extends RequestParams {
    setupRequest?: (req: RequestParams, context: Record<string, unknown>) => RequestParams;
    onResponse?: (
      status: number,
      body: string,
      context: Record<string, unknown>,
      headers: Record<string, string | string[]>,
    ) => void;
  }
  export interface Options {
    url: string;
    connections?: number;
    amount?: number;
    duration?: number;
    timeout?: number;
    sampleInt?: number;
    requests?: Request[];
    excludeErrorStats?: boolean;
  }
  export interface Result {
    non2xx: number;
    errors: number;
    timeouts: number;
    duration: number;
    requests: { total: number };
  }
  export interface Instance extends EventEmitter {
    stop(): void;
  }
  function autocannon(options: Options, cb: (err: Error | null, result: Result) => void): Instance;
  export default autocannon;
}
