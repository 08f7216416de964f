/** Sessions in compressed sparse row form: session `s` is `items[offsets[s] .. offsets[s+1])`. */
export interface SessionRows {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

/**
 * Holds out the newest sessions (sessions are in time order) for validation, as `nextclick train` and `nextclick
 * tune` do; the held-out sessions are not trained on. At most the last `fraction` of the sessions, and no more of
 * them than hold `maxPredictions` next-item predictions (validation scores at most that many: a held-out session
 * it would never score is better trained on). Views, no copies of the items.
 */
export function splitValidation<S extends SessionRows>(s: S, fraction: number, maxPredictions = Infinity): { train: SessionRows; validation?: SessionRows } {
  const n = s.offsets.length - 1;
  const limit = Math.floor(n * fraction);
  let nVal = 0;
  for (let predictions = 0; nVal < limit && predictions < maxPredictions; nVal++) {
    const session = n - 1 - nVal;
    predictions += Math.max(0, s.offsets[session + 1]! - s.offsets[session]! - 1);
  }
  if (nVal === 0 || nVal >= n) return { train: s };
  const cut = n - nVal;
  const train = { offsets: s.offsets.subarray(0, cut + 1), items: s.items.subarray(0, s.offsets[cut]) };
  const base = s.offsets[cut]!;
  const offsets = Int32Array.from(s.offsets.subarray(cut), (o) => o - base);
  return { train, validation: { offsets, items: s.items.subarray(base) } };
}
