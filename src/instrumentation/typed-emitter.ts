/** Minimal logger interface, pino-compatible. The default is a no-op: a library does not print on its own. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const noopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A logger that writes one JSON line per record to stderr (used by the CLI). */
/**
 * JSON.stringify replacer: an Error (one without its own toJSON, e.g. a kafkajs error) is written with its name,
 * message and code — `message` is not an enumerable property, so plain stringify dropped it.
 */
function errorFields(_key: string, v: unknown): unknown {
  if (!(v instanceof Error)) return v;
  const e = v as Error & { code?: unknown; type?: unknown; retriable?: unknown };
  return {
    ...Object.fromEntries(Object.entries(e)), name: e.name, message: e.message,
    ...(e.code !== undefined ? { code: e.code } : {}), ...(e.type !== undefined ? { type: e.type } : {}),
    ...(e.cause !== undefined ? { cause: e.cause } : {}),
  };
}

export function createStderrLogger(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): Logger {
  const order = { debug: 10, info: 20, warn: 30, error: 40 } as const;
  const min = order[level];
  const write = (lvl: keyof typeof order) => (obj: object, msg?: string) => {
    if (order[lvl] < min) return;
    process.stderr.write(JSON.stringify({ level: lvl, time: Date.now(), ...obj, ...(msg ? { msg } : {}) }, errorFields) + '\n');
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

type Listener<T> = (payload: T) => void;

/**
 * Typed event emitter. A throwing listener is reported to `onListenerError` and never breaks the loop that
 * emitted; `hasListeners` lets hot paths skip building payloads nobody reads.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  constructor(private readonly onListenerError: (err: unknown, event: keyof Events) => void = () => {}) {}

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>);
  }

  hasListeners(event: keyof Events): boolean {
    const set = this.listeners.get(event);
    return set !== undefined && set.size > 0;
  }

  emit<K extends keyof Events>(event: K, payload: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const l of set) {
      try {
        (l as Listener<Events[K]>)(payload);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
