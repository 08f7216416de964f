/** Filters applied when picking the top-k from a score row. */
export interface ItemFilter {
  /** Dense indices never to return (e.g. items already in the session, out of stock). */
  readonly exclude?: Iterable<number> | undefined;
  /** If set, only these dense indices may be returned. */
  readonly allow?: ReadonlySet<number> | undefined;
}

/**
 * Top-k of one score row with a bounded min-heap: O(N log k). Ties are broken by lower index first,
 * so results are deterministic. Excluded items and -Infinity/NaN scores are skipped.
 */
export function topK(scores: Float32Array, k: number, filter: ItemFilter = {}, offset = 0, length = scores.length - offset): { items: Int32Array; scores: Float32Array } {
  const excluded = filter.exclude ? new Set(filter.exclude) : undefined;
  const allow = filter.allow;
  const heapIdx = new Int32Array(k);
  const heapVal = new Float32Array(k);
  let size = 0;
  // Heap root = worst of the kept items ("worse" = lower score, or equal score with higher index).
  const worse = (ia: number, va: number, ib: number, vb: number) => va < vb || (va === vb && ia > ib);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && worse(heapIdx[l]!, heapVal[l]!, heapIdx[m]!, heapVal[m]!)) m = l;
      if (r < size && worse(heapIdx[r]!, heapVal[r]!, heapIdx[m]!, heapVal[m]!)) m = r;
      if (m === i) return;
      const ti = heapIdx[i]!, tv = heapVal[i]!;
      heapIdx[i] = heapIdx[m]!; heapVal[i] = heapVal[m]!;
      heapIdx[m] = ti; heapVal[m] = tv;
      i = m;
    }
  };
  const siftUp = (i: number) => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heapIdx[i]!, heapVal[i]!, heapIdx[p]!, heapVal[p]!)) return;
      const ti = heapIdx[i]!, tv = heapVal[i]!;
      heapIdx[i] = heapIdx[p]!; heapVal[i] = heapVal[p]!;
      heapIdx[p] = ti; heapVal[p] = tv;
      i = p;
    }
  };
  if (k > 0) {
    // Hot loop over the whole catalog: once the heap is full, one comparison rejects almost every item.
    // Indices only grow, so an item equal to the threshold loses the tie and can be skipped too.
    let threshold = -Infinity;
    for (let j = 0; j < length; j++) {
      const v = scores[offset + j]!;
      if (v <= threshold || !(v > -Infinity)) continue; // also skips NaN and -Infinity
      if (excluded?.has(j) || (allow && !allow.has(j))) continue;
      if (size < k) {
        heapIdx[size] = j; heapVal[size] = v; size++;
        siftUp(size - 1);
        if (size === k) threshold = heapVal[0]!;
      } else {
        heapIdx[0] = j; heapVal[0] = v;
        siftDown(0);
        threshold = heapVal[0]!;
      }
    }
  }
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => heapVal[b]! - heapVal[a]! || heapIdx[a]! - heapIdx[b]!);
  return { items: Int32Array.from(order, (i) => heapIdx[i]!), scores: Float32Array.from(order, (i) => heapVal[i]!) };
}

/** How ties with the target's score count when ranking it. */
export type TiePolicy = 'conservative' | 'optimistic' | 'average';

/**
 * 1-based rank of `target` in a score row against ALL items. `conservative` (default) puts the target after
 * every item with an equal score, so a model that scores everything equally gets no credit.
 */
export function rankOf(scores: Float32Array, target: number, tie: TiePolicy = 'conservative', offset = 0, length = scores.length - offset): number {
  const s = scores[offset + target]!;
  if (Number.isNaN(s)) return length;
  let higher = 0;
  let equal = 0;
  for (let j = 0; j < length; j++) {
    const v = scores[offset + j]!;
    if (v > s) higher++;
    else if (v === s && j !== target) equal++;
  }
  if (tie === 'optimistic') return higher + 1;
  if (tie === 'average') return higher + 1 + equal / 2;
  return higher + 1 + equal;
}
