// "The last X before this point" asked once per item of a long list (each free asks for the rmmod
// before it, each refused rmmod for the unload before it) was quadratic on a trace of many rmmods.
// The items are sorted once by position; a query is a binary search, and the answer is the latest
// in the list's own order (the order the analyses saw them, which for an input sorted by time need
// not be the order of its lines), as the scan over the list gave.

/** Items searchable by position: the latest (in list order) of those before a bound. */
export class LatestBefore<T> {
  private readonly byPosition: T[];
  /** lastUpTo[k]: the largest list index among the first k + 1 items by position. */
  private readonly lastUpTo: number[];

  constructor(
    private readonly inOrder: readonly T[],
    compare: (a: T, b: T) => number,
  ) {
    const order = inOrder.map((_, i) => i).sort((a, b) => compare(inOrder[a], inOrder[b]) || a - b);
    this.byPosition = order.map((i) => inOrder[i]);
    this.lastUpTo = [];
    for (let k = 0; k < order.length; k++) this.lastUpTo.push(k === 0 ? order[0] : Math.max(this.lastUpTo[k - 1], order[k]));
  }

  /** The latest in list order of the items for which `before` holds; `before` must hold for a prefix of the position order. */
  latest(before: (t: T) => boolean): T | null {
    let lo = 0;
    let hi = this.byPosition.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.byPosition[mid])) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? this.inOrder[this.lastUpTo[lo - 1]] : null;
  }
}
