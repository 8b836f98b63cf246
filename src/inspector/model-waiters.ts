import type { SessionModel } from './session-model.ts';
import type { EventSink } from './sinks.ts';

/**
 * The waits of `Inspector.waitFor` as one sink: after each event the model applied, every
 * pending predicate is checked again, and those that hold resolve.
 */
export class ModelWaiters implements EventSink {
  private readonly pending = new Set<ModelWait>();

  constructor(private readonly model: SessionModel) {}

  /**
   * Resolves when `predicate(model)` holds (now or after a later event); rejects after
   * `timeoutMs`, or with the signal's reason as soon as `signal` aborts.
   */
  waitFor(predicate: (model: SessionModel) => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const wait = new ModelWait(this.model, this.pending, predicate, timeoutMs, what, signal, resolve, reject);
      wait.check();
    });
  }

  applied(): void {
    // A wait that holds removes itself; a Set allows that during iteration.
    for (const wait of this.pending) wait.check();
  }
}

/** One pending `waitFor`: its predicate, its timer and its abort signal. */
class ModelWait {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly model: SessionModel,
    private readonly pending: Set<ModelWait>,
    private readonly predicate: (model: SessionModel) => boolean,
    timeoutMs: number,
    private readonly what: string,
    private readonly signal: AbortSignal | undefined,
    private readonly resolve: () => void,
    private readonly reject: (reason: Error) => void,
  ) {
    this.timer = setTimeout(this.onTimeout, timeoutMs, timeoutMs);
    pending.add(this);
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Resolves (and ends the wait) if the predicate holds. */
  check(): void {
    if (!this.pending.has(this) || !this.predicate(this.model)) return;
    this.end();
    this.resolve();
  }

  private readonly onTimeout = (timeoutMs: number): void => {
    this.end();
    this.reject(new Error(`timed out after ${timeoutMs} ms waiting for ${this.what}`));
  };

  private readonly onAbort = (): void => {
    this.end();
    this.reject(this.signal?.reason as Error);
  };

  private end(): void {
    this.pending.delete(this);
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}
