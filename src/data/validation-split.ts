/** Sessions in compressed sparse row form: session `s` is `items[offsets[s] .. offsets[s+1])`. */
export interface SessionRows {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

/**
 * Holds out the last `fraction` of sessions (the most recent ones: sessions are in time order) for validation,
 * as `nextclick train` and `nextclick tune` do; the held-out sessions are not trained on. Views, no copies of
 * the items.
 */
export function splitValidation<S extends SessionRows>(s: S, fraction: number): { train: SessionRows; validation?: SessionRows } {
  const n = s.offsets.length - 1;
  const nVal = Math.floor(n * fraction);
  if (nVal === 0 || nVal >= n) return { train: s };
  const cut = n - nVal;
  const train = { offsets: s.offsets.subarray(0, cut + 1), items: s.items.subarray(0, s.offsets[cut]) };
  const base = s.offsets[cut]!;
  const offsets = Int32Array.from(s.offsets.subarray(cut), (o) => o - base);
  return { train, validation: { offsets, items: s.items.subarray(base) } };
}
