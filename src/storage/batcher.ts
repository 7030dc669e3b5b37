/**
 * Group commit for a hot statement: calls that arrive while earlier batches are in flight are
 * sent together as one statement. At low load every call goes alone, one event-loop turn
 * later; under load a start costs a share of one round trip and one commit instead of a whole
 * one (docs/performance.md, flows started).
 */
export interface BatcherOptions {
  /** Batches in flight at once (at most the pool's connections). */
  maxInFlight: number;
  /** Largest batch; more waiting calls go in the next one. */
  maxBatch: number;
}

interface Waiting<In, Out> {
  input: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

/** Collects calls to `run`, which answers a batch of inputs with one output each, in order. */
export class Batcher<In, Out> {
  private queue: Waiting<In, Out>[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly options: BatcherOptions,
  ) {}

  /** Queue `input`; resolves with its own output, or rejects with its batch's error. */
  add(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    // After the current I/O phase, so that the requests parsed in it join the same batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.send(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async send(batch: Waiting<In, Out>[]): Promise<void> {
    try {
      const outputs = await this.run(batch.map((w) => w.input));
      for (const [i, w] of batch.entries()) w.resolve(outputs[i] as Out);
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
