/**
 * A store whose token claims are held once they have claimed: a poll being answered, frozen
 * between its claim and its answer, so that a test can act in that moment (another instance's
 * poll, a cut connection) before letting it go on.
 */
import type { Store } from '../src/storage/store.js';

/** `store`, with its token claims held until `release()` once they have claimed; `claimed` resolves at the first. */
export function holdingClaims(store: Store): { store: Store; claimed: Promise<void>; release: () => void } {
  let release!: () => void;
  let claimed!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const claimedOnce = new Promise<void>((resolve) => {
    claimed = resolve;
  });
  const held = new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (name !== 'claimToken' || typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        const token = await value.apply(target, args);
        if (token) {
          claimed();
          await released;
        }
        return token;
      };
    },
  }) as Store;
  return { store: held, claimed: claimedOnce, release };
}
