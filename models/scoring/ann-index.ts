import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { NextclickError } from '../../src/errors.js';
import type { DenseItemTable } from '../../src/scoring/dense-top-k.js';
import { dotKernel, type DotKernel } from './dot-kernel.js';

/** HNSW parameters of {@link AnnIndex}. */
export interface AnnIndexOptions {
  /** Graph degree (HNSW `M`; layer 0 keeps twice as many links). More = better recall, more memory, slower build. @defaultValue 16 */
  readonly connectivity?: number;
  /**
   * Candidate list size while inserting (HNSW `efConstruction`). A better graph lets queries search fewer
   * candidates, for a longer build (once: the graph is persisted with the model). On a trained Diginetica GRU4Rec
   * (43k items, d = 100), 50 candidates gave recall@20 0.976 with 200 and 0.965 with 100, for a build of 42 s
   * instead of 24 s of CPU (bench/ann-recall.mjs, before the SIMD distances, which build at 200 in 11 s). @defaultValue 200
   */
  readonly expansionAdd?: number;
  /** Candidate list size while searching (HNSW `ef`); raised to the requested count when smaller, so `candidates` is the effective ef. @defaultValue 16 */
  readonly expansionSearch?: number;
}

export const annIndexDefaults = {
  connectivity: 16,
  expansionAdd: 200,
  expansionSearch: 16,
} as const satisfies Required<AnnIndexOptions>;

/** First word of a persisted graph ("HNS1" little-endian); a file without it is rejected. */
const FILE_MAGIC = 0x31534e48;

/**
 * Approximate maximum-inner-product candidates over an item table, on an HNSW graph (Malkov & Yashunin 2018) in
 * plain TypeScript: no native addon, so it installs and runs on every Node version the package supports.
 *
 * HNSW is built for metric spaces, and inner product is not one (a long vector is "near" everything). The
 * standard reduction fixes that: each item `[w, b]` (vector and bias) gets one more coordinate
 * `sqrt(R² − |[w, b]|²)` so every item has norm R, and the query `[h, 1]` gets a 0 there. Scaled to unit norm,
 * the inner product between two items is their cosine (a true metric ordering for the graph), and between the
 * query and an item it ranks items exactly as `h·w + b` does. The build is deterministic (seeded levels, one
 * thread), so the same table always gives the same graph. The vectors live in a {@link DotKernel}'s memory, and
 * the search computes the distances to a node's unvisited links in one kernel call (WebAssembly SIMD).
 */
export class AnnIndex {
  readonly itemCount: number;
  readonly dims: number;
  /** Bytes per augmented vector (`dims + 2` floats, padded to a multiple of four). */
  private readonly stride: number;
  private readonly kernel: DotKernel;
  /** The kernel's memory as floats and as ints: the query at 0, then the link ids and distances, then the vectors. */
  private readonly f32: Float32Array;
  private readonly i32: Int32Array;
  /** Byte offsets of the link ids, their distances, and the augmented unit-norm vectors `[itemCount, stride]`. */
  private readonly idsAt: number;
  private readonly distAt: number;
  private readonly vectorsAt: number;
  private readonly m: number;
  private readonly m0: number;
  private readonly efSearch: number;
  /** Top layer of each node. */
  private readonly levels: Uint8Array;
  /** Layer-0 links: `m0` slots per node, `count0[i]` of them used. */
  private readonly links0: Int32Array;
  private readonly count0: Uint16Array;
  /** Distance of each layer-0 link (build only: a full list replaces its farthest link by a closer one). */
  private linkDistance0: Float32Array | undefined;
  /** Links of layers 1..levels[i]: per layer `[count, m slots]`. */
  private readonly upper: (Int32Array | undefined)[];
  private entry = -1;
  private maxLevel = -1;
  private readonly visited: Uint32Array;
  private stamp = 0;
  private readonly candidates = new Heap();
  private readonly results = new Heap();
  private nbList: Int32Array = new Int32Array(0);
  private nbStart = 0;
  private nbCount = 0;

  private constructor(table: DenseItemTable, o: Required<AnnIndexOptions>) {
    this.itemCount = table.itemCount;
    this.dims = table.dims;
    this.m = o.connectivity;
    this.m0 = 2 * o.connectivity;
    this.stride = Math.ceil((table.dims + 2) / 4) * 16;
    const list = 4 * (this.m0 + 1);
    this.idsAt = this.stride;
    this.distAt = this.idsAt + list;
    this.vectorsAt = Math.ceil((this.distAt + list) / 16) * 16;
    this.kernel = dotKernel(this.vectorsAt + table.itemCount * this.stride);
    this.f32 = new Float32Array(this.kernel.buffer);
    this.i32 = new Int32Array(this.kernel.buffer);
    augmentItems(table, this.f32.subarray(this.vectorsAt >> 2), this.stride >> 2);
    this.efSearch = o.expansionSearch;
    const n = table.itemCount;
    this.levels = new Uint8Array(n);
    this.links0 = new Int32Array(n * this.m0);
    this.count0 = new Uint16Array(n);
    this.upper = new Array<Int32Array | undefined>(n);
    this.visited = new Uint32Array(n);
  }

  /** Builds the index (seconds for 10⁴–10⁵ items), or loads its graph from `file` when given and present. */
  static build(table: DenseItemTable, options: AnnIndexOptions = {}, file?: string): AnnIndex {
    const o = { ...annIndexDefaults, ...options };
    const ann = new AnnIndex(table, o);
    if (file !== undefined && existsSync(file)) {
      ann.load(file);
      return ann;
    }
    ann.linkDistance0 = new Float32Array(ann.itemCount * ann.m0);
    const levelScale = 1 / Math.log(Math.max(2, o.connectivity));
    let seed = 0x9e3779b9;
    for (let i = 0; i < ann.itemCount; i++) {
      // mulberry32: a fixed sequence, so the graph is reproducible.
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      ann.insert(i, Math.min(15, Math.floor(-Math.log(1 - u) * levelScale)), o.expansionAdd);
    }
    ann.linkDistance0 = undefined;
    return ann;
  }

  /** Writes the graph (not the vectors, which the model holds) so the next load skips the build. */
  save(file: string): void {
    const n = this.itemCount;
    let upperWords = 0;
    for (let i = 0; i < n; i++) upperWords += this.levels[i]! * (this.m + 1);
    const out = new Int32Array(8 + n + n + n * this.m0 + upperWords);
    out.set([FILE_MAGIC, 1, n, this.dims, this.m, this.entry, this.maxLevel, 0]);
    let p = 8;
    for (let i = 0; i < n; i++) out[p++] = this.levels[i]!;
    for (let i = 0; i < n; i++) out[p++] = this.count0[i]!;
    out.set(this.links0, p);
    p += n * this.m0;
    for (let i = 0; i < n; i++) {
      const u = this.upper[i];
      if (u) { out.set(u, p); p += u.length; }
    }
    writeFileSync(file, new Uint8Array(out.buffer));
  }

  private load(file: string): void {
    const bytes = readFileSync(file);
    const words = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + (bytes.byteLength & ~3)));
    const bad = (why: string) => new NextclickError('MODEL_FORMAT', `ANN index ${file} ${why}; delete the file to rebuild it`);
    if (words.length < 8 || words[0] !== FILE_MAGIC || words[1] !== 1) throw bad('is not a nextclick HNSW graph (version 1)');
    const [n, dims, m] = [words[2]!, words[3]!, words[4]!];
    if (n !== this.itemCount) throw bad(`holds ${n} items but the model has ${this.itemCount}`);
    if (dims !== this.dims || m !== this.m) throw bad(`was built for dims ${dims}, connectivity ${m} (now ${this.dims}, ${this.m})`);
    this.entry = words[5]!;
    this.maxLevel = words[6]!;
    let p = 8;
    for (let i = 0; i < n; i++) this.levels[i] = words[p++]!;
    for (let i = 0; i < n; i++) this.count0[i] = words[p++]!;
    this.links0.set(words.subarray(p, p + n * this.m0));
    p += n * this.m0;
    for (let i = 0; i < n; i++) {
      const size = this.levels[i]! * (m + 1);
      if (size > 0) { this.upper[i] = words.slice(p, p + size); p += size; }
    }
    if (p !== words.length) throw bad('is truncated or has trailing data');
  }

  /**
   * Up to `count` candidate item indices per query for `batch` queries at `hidden[b * dims ..]`, best first;
   * returns `batch × count` indices, -1 where fewer were found.
   */
  search(hidden: Float32Array, batch: number, count: number): Int32Array {
    const d = this.dims;
    const out = new Int32Array(batch * count).fill(-1);
    if (batch === 0 || this.itemCount === 0 || count === 0) return out;
    const q = this.f32;
    const ef = Math.max(this.efSearch, count);
    for (let b = 0; b < batch; b++) {
      q.set(hidden.subarray(b * d, (b + 1) * d));
      q[d] = 1; // the bias coordinate (the augmentation's is 0 for a query, and so is the padding)
      let cur = this.entry;
      for (let level = this.maxLevel; level > 0; level--) cur = this.greedy(-1, cur, level);
      this.searchLayer(-1, cur, ef, 0);
      // results is a max-heap on distance: pop worst first, fill from the back.
      const r = this.results;
      while (r.size > count) r.pop();
      for (let i = r.size - 1; i >= 0; i--) out[b * count + i] = r.pop();
    }
    return out;
  }

  /** Negated inner product of item `i` with the query (`qi` −1) or with item `qi`: smaller = closer. */
  private distance(qi: number, i: number): number {
    this.i32[this.idsAt >> 2] = i;
    this.distances(qi, 1);
    return this.f32[this.distAt >> 2]!;
  }

  /**
   * Distances from the query (`qi` −1) or item `qi` to the `n` items written at the link-id buffer, into the
   * distance buffer (`f32` from `distAt >> 2`; read there, no view is made per call on the search's hot path).
   */
  private distances(qi: number, n: number): void {
    this.kernel.dots(qi < 0 ? 0 : this.vectorsAt + qi * this.stride, this.vectorsAt, this.idsAt, n, this.stride, this.distAt);
  }

  /** Points `nbList[nbStart .. nbStart + nbCount)` at the links of `node` on `level` (no allocation in the search loops). */
  private neighbours(node: number, level: number): void {
    if (level === 0) {
      this.nbList = this.links0;
      this.nbStart = node * this.m0;
      this.nbCount = this.count0[node]!;
    } else {
      const u = this.upper[node]!;
      const at = (level - 1) * (this.m + 1);
      this.nbList = u;
      this.nbStart = at + 1;
      this.nbCount = u[at]!;
    }
  }

  /** Best node reachable greedily from `start` on `level` (HNSW's descent through the upper layers). */
  private greedy(qi: number, start: number, level: number): number {
    let cur = start;
    let best = this.distance(qi, cur);
    const ids = this.i32, at = this.idsAt >> 2, dist = this.f32, dAt = this.distAt >> 2;
    for (let moved = true; moved; ) {
      moved = false;
      this.neighbours(cur, level);
      const list = this.nbList, s = this.nbStart, count = this.nbCount;
      for (let j = 0; j < count; j++) ids[at + j] = list[s + j]!;
      this.distances(qi, count);
      for (let j = 0; j < count; j++) {
        if (dist[dAt + j]! < best) { best = dist[dAt + j]!; cur = ids[at + j]!; moved = true; }
      }
    }
    return cur;
  }

  /** Beam search of width `ef` on `level` from `start`; leaves the `ef` closest in `this.results` (max-heap). */
  private searchLayer(qi: number, start: number, ef: number, level: number): void {
    const stamp = this.nextStamp();
    const visited = this.visited;
    const cand = this.candidates, res = this.results;
    const ids = this.i32, at = this.idsAt >> 2, dist = this.f32, dAt = this.distAt >> 2;
    cand.clear();
    res.clear();
    const d0 = this.distance(qi, start);
    visited[start] = stamp;
    cand.push(-d0, start); // candidates: max-heap on -distance = nearest first
    res.push(d0, start); // results: max-heap on distance = farthest first
    while (cand.size > 0) {
      const dc = -cand.topKey();
      if (dc > res.topKey() && res.size >= ef) break;
      const c = cand.pop();
      this.neighbours(c, level);
      const list = this.nbList, s = this.nbStart, count = this.nbCount;
      // The unvisited links, scored in one kernel call, then offered to the heaps in link order.
      let fresh = 0;
      for (let j = 0; j < count; j++) {
        const e = list[s + j]!;
        if (visited[e] === stamp) continue;
        visited[e] = stamp;
        ids[at + fresh++] = e;
      }
      this.distances(qi, fresh);
      for (let j = 0; j < fresh; j++) {
        const e = ids[at + j]!, de = dist[dAt + j]!;
        if (res.size < ef || de < res.topKey()) {
          cand.push(-de, e);
          res.push(de, e);
          if (res.size > ef) res.pop();
        }
      }
    }
  }

  private nextStamp(): number {
    if (++this.stamp === 0xffffffff) { this.visited.fill(0); this.stamp = 1; }
    return this.stamp;
  }

  private insert(node: number, level: number, efConstruction: number): void {
    this.levels[node] = level;
    if (level > 0) this.upper[node] = new Int32Array(level * (this.m + 1));
    if (this.entry < 0) { this.entry = node; this.maxLevel = level; return; }
    let cur = this.entry;
    for (let l = this.maxLevel; l > level; l--) cur = this.greedy(node, cur, l);
    for (let l = Math.min(level, this.maxLevel); l >= 0; l--) {
      this.searchLayer(node, cur, efConstruction, l);
      const found = this.results.drainAscending();
      cur = found.ids[0]!;
      const chosen = this.selectNeighbours(found.ids, found.keys, l === 0 ? this.m0 : this.m);
      this.setLinks(node, l, chosen.ids, chosen.dists);
      for (let j = 0; j < chosen.ids.length; j++) this.addLink(chosen.ids[j]!, node, l, chosen.dists[j]!);
    }
    if (level > this.maxLevel) { this.maxLevel = level; this.entry = node; }
  }

  /**
   * HNSW's neighbour heuristic: take candidates nearest first, keeping one only if it is closer to the base than
   * to every neighbour kept so far, so links spread in all directions instead of into one cluster.
   */
  private selectNeighbours(ids: readonly number[], dists: readonly number[], max: number): { ids: number[]; dists: number[] } {
    const kept: number[] = [], keptDists: number[] = [];
    for (let i = 0; i < ids.length && kept.length < max; i++) {
      const e = ids[i]!;
      let diverse = true;
      for (const r of kept) {
        if (this.distance(e, r) < dists[i]!) { diverse = false; break; }
      }
      if (diverse) { kept.push(e); keptDists.push(dists[i]!); }
    }
    return { ids: kept, dists: keptDists };
  }

  private setLinks(node: number, level: number, ids: readonly number[], dists: readonly number[]): void {
    if (level === 0) {
      this.links0.set(ids, node * this.m0);
      this.linkDistance0!.set(dists, node * this.m0);
      this.count0[node] = ids.length;
    } else {
      const u = this.upper[node]!;
      const at = (level - 1) * (this.m + 1);
      u[at] = ids.length;
      u.set(ids, at + 1);
    }
  }

  /**
   * Links `from` → `to` (at distance `d`). A full layer-0 list replaces its farthest link when `to` is closer
   * (cheap: the distances are kept); a full upper-layer list (few nodes) is re-selected with the heuristic.
   */
  private addLink(from: number, to: number, level: number, d: number): void {
    if (level === 0) {
      const at = from * this.m0, count = this.count0[from]!;
      const dist = this.linkDistance0!;
      if (count < this.m0) {
        this.links0[at + count] = to;
        dist[at + count] = d;
        this.count0[from] = count + 1;
        return;
      }
      let worst = 0;
      for (let j = 1; j < count; j++) if (dist[at + j]! > dist[at + worst]!) worst = j;
      if (d < dist[at + worst]!) { this.links0[at + worst] = to; dist[at + worst] = d; }
      return;
    }
    const u = this.upper[from]!;
    const at = (level - 1) * (this.m + 1);
    const count = u[at]!;
    if (count < this.m) {
      u[at + 1 + count] = to;
      u[at] = count + 1;
      return;
    }
    const pool = [to];
    for (let j = 0; j < count; j++) pool.push(u[at + 1 + j]!);
    const dists = pool.map((e) => this.distance(from, e));
    const order = pool.map((_, i) => i).sort((a, b) => dists[a]! - dists[b]! || pool[a]! - pool[b]!);
    const picked = this.selectNeighbours(order.map((i) => pool[i]!), order.map((i) => dists[i]!), this.m);
    this.setLinks(from, level, picked.ids, picked.dists);
  }
}

/** A binary max-heap of (key, id) pairs on growable typed arrays. */
class Heap {
  private keys = new Float64Array(64);
  private ids = new Int32Array(64);
  size = 0;

  clear(): void {
    this.size = 0;
  }

  topKey(): number {
    return this.keys[0]!;
  }

  push(key: number, id: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2); k.set(this.keys); this.keys = k;
      const i = new Int32Array(this.size * 2); i.set(this.ids); this.ids = i;
    }
    let at = this.size++;
    const keys = this.keys, ids = this.ids;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (keys[parent]! >= key) break;
      keys[at] = keys[parent]!;
      ids[at] = ids[parent]!;
      at = parent;
    }
    keys[at] = key;
    ids[at] = id;
  }

  /** Removes the largest key; returns its id. */
  pop(): number {
    const keys = this.keys, ids = this.ids;
    const top = ids[0]!;
    const n = --this.size;
    if (n === 0) return top;
    const key = keys[n]!, id = ids[n]!;
    let at = 0;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1]! > keys[child]!) child++;
      if (keys[child]! <= key) break;
      keys[at] = keys[child]!;
      ids[at] = ids[child]!;
      at = child;
    }
    keys[at] = key;
    ids[at] = id;
    return top;
  }

  /** Empties the heap; ids and keys ordered by ascending key. */
  drainAscending(): { ids: number[]; keys: number[] } {
    const ids: number[] = new Array(this.size), keys: number[] = new Array(this.size);
    for (let i = this.size - 1; i >= 0; i--) {
      keys[i] = this.topKey();
      ids[i] = this.pop();
    }
    return { ids, keys };
  }
}

/**
 * Writes `[w, b, sqrt(R² − |w|² − b²)] / R` per item (R = the largest norm; see {@link AnnIndex}) into `out`,
 * `width` floats per item (zero padding after the `dims + 2` coordinates).
 */
function augmentItems(table: DenseItemTable, out: Float32Array, width: number): void {
  const { itemCount: n, dims: d, vectors, bias } = table;
  const norms = new Float64Array(n);
  let maxNorm = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < d; t++) { const x = vectors[i * d + t]!; out[i * width + t] = x; s += x * x; }
    const b = bias ? bias[i]! : 0;
    out[i * width + d] = b;
    s += b * b;
    norms[i] = s;
    if (s > maxNorm) maxNorm = s;
  }
  // All-zero items would have no direction; give them one (their score is 0 + bias either way).
  if (maxNorm === 0) {
    for (let i = 0; i < n; i++) out[i * width + d + 1] = 1;
    return;
  }
  const scale = 1 / Math.sqrt(maxNorm);
  for (let i = 0; i < n; i++) {
    out[i * width + d + 1] = Math.sqrt(Math.max(0, maxNorm - norms[i]!));
    for (let t = 0; t < d + 2; t++) out[i * width + t]! *= scale;
  }
}
