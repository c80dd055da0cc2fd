/**
 * The deadline of one call (`callTimeoutMs`): the abort signal a transport hands to the SDK, aborted
 * when the deadline passes, so that the SDK stops retrying and its request handler closes the
 * connection of a request that never got an answer.
 */

type Listener = (event: { type: 'abort'; target: LightSignal }) => void;

/**
 * An abort signal with only what the SDK's retry middleware and its Node.js request handlers read
 * of one: `aborted`, `reason`, `onabort`, and abort listeners. An `AbortController`'s signal is an
 * EventTarget: about 4 µs to make and 5 µs per listener added and removed, on every call, where
 * this costs a few objects. Only for those handlers: `fetch` wants a real `AbortSignal`.
 */
class LightSignal {
  aborted = false;
  reason: unknown;
  onabort: Listener | null = null;
  #listeners: Listener[] = [];

  addEventListener(type: string, listener: Listener): void {
    if (type === 'abort') this.#listeners.push(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    const i = type === 'abort' ? this.#listeners.indexOf(listener) : -1;
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const event = { type: 'abort' as const, target: this };
    this.onabort?.(event);
    for (const listener of this.#listeners.splice(0)) listener(event);
  }
}

/** Whether a request handler is one of the SDK's Node.js handlers (HTTP/1.1 or HTTP/2), which take a light signal. */
export function takesLightSignal(handler: unknown): boolean {
  const protocol = (handler as { metadata?: { handlerProtocol?: unknown } } | undefined)?.metadata
    ?.handlerProtocol;
  return protocol === 'http/1.1' || protocol === 'h2';
}

/** One call's deadline: its signals are made only when a transport asks for one. @internal */
export class Deadline {
  #light: LightSignal | undefined;
  #controller: AbortController | undefined;
  #reason: Error | undefined;

  /** Whether the deadline has passed. */
  get expired(): boolean {
    return this.#reason !== undefined;
  }

  /** The signal to give the SDK: a light one for the SDK's Node.js handlers, a real `AbortSignal` otherwise. */
  signal(light: boolean): AbortSignal {
    if (light) {
      if (!this.#light) {
        this.#light = new LightSignal();
        if (this.#reason) this.#light.abort(this.#reason);
      }
      return this.#light as unknown as AbortSignal;
    }
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts every signal given out. */
  expire(reason: Error): void {
    this.#reason = reason;
    this.#light?.abort(reason);
    this.#controller?.abort(reason);
  }
}
