/**
 * The global cap on live pending flows (`MAX_PENDING_FLOWS`): each one costs memory on every
 * instance that polls it and a row in the database, and without a cap many addresses could
 * start flows until something runs out.
 *
 * Counting live flows is a scan of the table, too dear for every start. So the count is read
 * from the database at most once a second while near the cap (every 10 s while under half of
 * it), and the starts this instance makes in between are added to it. On one instance the cap
 * is exact, even under a burst: a place is reserved synchronously before the flow is inserted.
 * Across instances it may be passed by what the others start within one refresh.
 *
 * A full cap must not let a few addresses keep everyone else out: when the estimate says
 * full, the store is asked for room (`Store.makeRoom`, one statement whose work grows with the
 * log of the number of flows), and ends the oldest flow of the network holding the most among
 * a random sample of live flows, when it holds more than an office NAT would
 * (`OFFICE_FLOWS`) and at least two more than the newcomer's (docs/security.md).
 */
import type { Room } from '../storage/store.js';

/**
 * The most live flows a network may hold and never be displaced at a full cap: an office
 * behind one NAT, dozens of people, a few of them logging the CLI in within the same quarter
 * of an hour. A network past it holds more than people do, and gives up its oldest flow to a
 * newcomer (docs/security.md, "Denial of service").
 */
export const OFFICE_FLOWS = 10;

/** How often the count is read again, near the cap and far below it. */
const NEAR_REFRESH_MS = 1000;
const FAR_REFRESH_MS = 10_000;

export interface PendingCapDeps {
  max: number;
  /** Live pending flows in the database, at `now`. */
  count: (now: Date) => Promise<number>;
  /** The store's `makeRoom` for a newcomer from `holder` (sparing networks holding up to `OFFICE_FLOWS`). */
  makeRoom: (holder: string, now: Date) => Promise<Room>;
  now: () => number;
}

/** A place under the cap (perhaps taken from a hoarder's flow), or none. */
export type Place =
  | { full?: undefined; displaced?: string }
  | { full: true /** When the earliest live flow expires, if known. */; freeAt?: Date };

/** Places for new flows under the cap. */
export class PendingCap {
  private counted = 0;
  private countedAt = Number.NEGATIVE_INFINITY;
  /** Places reserved whose flows are still being inserted. */
  private inFlight = 0;
  /** Flows inserted here since the last count began (so possibly not in it). */
  private inserted = 0;
  private refreshing: Promise<void> | undefined;

  constructor(private readonly deps: PendingCapDeps) {}

  private get estimate(): number {
    return this.counted + this.inFlight + this.inserted;
  }

  /**
   * Reserve a place for a new flow from `holder` (`siteKey` of its address): `full` when there
   * is none to be had. Then call `created` once the flow is stored, or `release` if it is not.
   */
  async reserve(holder: string): Promise<Place> {
    const age = this.deps.now() - this.countedAt;
    if (age >= (this.estimate * 2 >= this.deps.max ? NEAR_REFRESH_MS : FAR_REFRESH_MS)) await this.refresh();
    if (this.estimate < this.deps.max) {
      this.inFlight++;
      return {};
    }
    const room = await this.deps.makeRoom(holder, new Date(this.deps.now()));
    if (room.displaced) {
      // A live flow was ended for this one: the count of live flows stays where it was.
      this.inFlight++;
      return { displaced: room.displaced };
    }
    // Places that came free since the last count are found by the next one (within a second).
    return { full: true, ...(room.freeAt ? { freeAt: room.freeAt } : {}) };
  }

  /** The reserved flow was stored. */
  created(): void {
    this.inFlight--;
    this.inserted++;
  }

  /** The reserved flow was not stored: its place is free again. */
  release(): void {
    this.inFlight--;
  }

  private refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      try {
        const at = this.deps.now();
        // Flows inserted before the count begins are in it. Those inserted while it runs may
        // or may not be, and those still in flight are not: both stay added (an estimate that
        // errs towards refusing).
        const insertedBefore = this.inserted;
        const counted = await this.deps.count(new Date(at));
        this.inserted -= insertedBefore;
        this.counted = counted;
        this.countedAt = at;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }
}
