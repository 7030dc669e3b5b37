/**
 * One LISTEN connection per store, whoever subscribes: the flows' subscriber and the webhook
 * sender's both hear the channel migrations/002 and /015 notify on, through the same connection
 * (docs/deploy.md counts one LISTEN connection per instance). It opens with the first
 * subscriber and closes with the last.
 */
import type { Db, ListenHandlers } from './db.js';

export class SharedListen {
  private readonly subscribers = new Set<ListenHandlers>();
  private opened: Promise<() => Promise<void>> | undefined;

  constructor(
    private readonly db: Db,
    private readonly channel: string,
  ) {}

  /** Hear the channel with `handlers` until the returned function is called. */
  async add(handlers: ListenHandlers): Promise<() => Promise<void>> {
    this.subscribers.add(handlers);
    try {
      await this.open();
    } catch (err) {
      this.subscribers.delete(handlers);
      throw err;
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      this.subscribers.delete(handlers);
      if (this.subscribers.size === 0) await this.close();
    };
  }

  private open(): Promise<() => Promise<void>> {
    // Each handler is called on a copy, so one that unsubscribes meanwhile cannot skip another.
    const each = (call: (h: ListenHandlers) => void) => () => {
      for (const handlers of [...this.subscribers]) call(handlers);
    };
    this.opened ??= this.db
      .listen(this.channel, {
        onNotify: (payload) => each((h) => h.onNotify(payload))(),
        onLost: each((h) => h.onLost()),
        onRestored: each((h) => h.onRestored()),
        onError: (err) => each((h) => h.onError(err))(),
      })
      .catch((err: unknown) => {
        this.opened = undefined;
        throw err;
      });
    return this.opened;
  }

  private async close(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await (await opened.catch(() => async () => {}))();
  }
}
