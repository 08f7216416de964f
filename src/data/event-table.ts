import type { ItemId } from '../events/click-event.js';

/**
 * Events held column-wise in typed arrays, with session and item ids interned to dense integers: about
 * 16 bytes per event (plus each distinct id once) instead of a ~100-byte object, and the arrays live outside
 * the JS heap. This is what lets `prepare` sort a multi-GB log in memory.
 */
export class EventTable {
  size = 0;
  session = new Int32Array(1024);
  item = new Int32Array(1024);
  time = new Float64Array(1024);
  /** Interned session ids, by dense index. */
  readonly sessionIds: string[] = [];
  /** Interned item ids (first-seen form), by dense index. */
  readonly itemIds: ItemId[] = [];
  private readonly sessionIndex = new Map<string, number>();
  // Keyed by string form, like ItemVocabulary: `42` and `"42"` are one item.
  private readonly itemIndex = new Map<string, number>();

  push(sessionId: string, itemId: ItemId, time: number): void {
    if (this.size === this.time.length) this.grow();
    let s = this.sessionIndex.get(sessionId);
    if (s === undefined) {
      s = this.sessionIds.length;
      this.sessionIndex.set(sessionId, s);
      this.sessionIds.push(sessionId);
    }
    const key = typeof itemId === 'string' ? itemId : String(itemId);
    let i = this.itemIndex.get(key);
    if (i === undefined) {
      i = this.itemIds.length;
      this.itemIndex.set(key, i);
      this.itemIds.push(itemId);
    }
    const n = this.size++;
    this.session[n] = s;
    this.item[n] = i;
    this.time[n] = time;
  }

  /** Event indices ordered by (session, time, file order): a stable sort, skipped when already in order. */
  sessionTimeOrder(): Uint32Array {
    const n = this.size;
    const order = new Uint32Array(n);
    for (let k = 0; k < n; k++) order[k] = k;
    const { session, time } = this;
    let sorted = true;
    for (let k = 1; k < n && sorted; k++) {
      const ds = (session[k - 1] as number) - (session[k] as number);
      // Session indices are assigned in order of first appearance, so a grouped log has ds ≤ 0 throughout.
      sorted = ds < 0 || (ds === 0 && (time[k - 1] as number) <= (time[k] as number));
    }
    if (!sorted) order.sort((a, b) => (session[a] as number) - (session[b] as number) || (time[a] as number) - (time[b] as number) || a - b);
    return order;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const s = new Int32Array(cap);
    s.set(this.session);
    this.session = s;
    const i = new Int32Array(cap);
    i.set(this.item);
    this.item = i;
    const t = new Float64Array(cap);
    t.set(this.time);
    this.time = t;
  }
}
