/**
 * Batched inner products for the HNSW search ({@link AnnIndex}): `out[i] = −(q · rows[ids[i]])` over float32 rows
 * of a fixed stride, computed by a WebAssembly SIMD function (four float32 lanes) on the kernel's own memory.
 * The search spends most of its time in these products; in plain JavaScript one costs a double-precision multiply
 * and add per coordinate, in the kernel a four-lane float32 multiply and add per four.
 *
 * Where WebAssembly SIMD is missing, {@link dotKernel} returns a JavaScript function with the same arithmetic
 * (float32 lanes `t mod 4`, rounded after each multiply and add, summed lane 0 to 3), so both give the same bits
 * and a graph built by either is the same graph.
 */

/** What the kernel computes on, and how: byte offsets into `memory`; `stride` is a multiple of 16 bytes. */
export interface DotKernel {
  /** The memory the offsets point into (a WebAssembly memory's buffer, or a plain buffer for the fallback). */
  readonly buffer: ArrayBuffer;
  /** `out[i] = −Σ_t q[t]·row[t]`, row = the `ids[i]`-th row of `stride` bytes from `base`, for i < n. */
  dots(q: number, base: number, ids: number, n: number, stride: number, out: number): void;
  /** `simd` or `js`. */
  readonly kind: 'simd' | 'js';
}

const PAGE = 65536;

/** The part of the WebAssembly JavaScript API used here (the project's type libraries do not declare it). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** Most pages a 32-bit WebAssembly memory holds (4 GiB). */
const MAX_PAGES = 65536;

/**
 * A kernel with a memory of at least `bytes` bytes (zeroed): WebAssembly SIMD when the runtime has it and the
 * memory fits a 32-bit WebAssembly memory (4 GiB: about 10M items at d 100), else the JavaScript fallback.
 */
export function dotKernel(bytes: number, options: { readonly simd?: boolean } = {}): DotKernel {
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (options.simd !== false && pages <= MAX_PAGES && wasm?.validate(KERNEL)) {
    try {
      const memory = new wasm.Memory({ initial: pages });
      const instance = new wasm.Instance(new wasm.Module(KERNEL), { env: { memory } });
      const dots = instance.exports['dots'] as DotKernel['dots'];
      return { buffer: memory.buffer, dots, kind: 'simd' };
    } catch {
      // No room for the memory: the fallback below computes the same bits.
    }
  }
  const buffer = new ArrayBuffer(Math.ceil(bytes / PAGE) * PAGE);
  const f32 = new Float32Array(buffer), i32 = new Int32Array(buffer);
  const r = Math.fround;
  const dots = (q: number, base: number, ids: number, n: number, stride: number, out: number): void => {
    // Byte offsets → element indices by division: a fallback memory may pass 2³¹ bytes, where `>> 2` wraps.
    const qf = q / 4, width = stride / 4;
    for (let i = 0; i < n; i++) {
      const row = base / 4 + i32[ids / 4 + i]! * width;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let t = 0; t < width; t += 4) {
        a0 = r(a0 + r(f32[qf + t]! * f32[row + t]!));
        a1 = r(a1 + r(f32[qf + t + 1]! * f32[row + t + 1]!));
        a2 = r(a2 + r(f32[qf + t + 2]! * f32[row + t + 2]!));
        a3 = r(a3 + r(f32[qf + t + 3]! * f32[row + t + 3]!));
      }
      f32[out / 4 + i] = -r(r(r(a0 + a1) + a2) + a3);
    }
  };
  return { buffer, dots, kind: 'js' };
}

/**
 * The kernel's WebAssembly module: one function `dots(q, base, ids, n, stride, out)` over an imported memory.
 * In text form:
 * ```
 * (func (export "dots") (param $q i32) (param $base i32) (param $ids i32) (param $n i32) (param $stride i32) (param $out i32)
 *   (local $i i32) (local $row i32) (local $j i32) (local $acc v128)
 *   block $done loop $rows
 *     (br_if $done (i32.ge_u $i $n))
 *     (local.set $row (i32.add $base (i32.mul (i32.load (i32.add $ids (i32.shl $i 2))) $stride)))
 *     (local.set $acc (v128.const i32x4 0 0 0 0)) (local.set $j 0)
 *     loop $lanes
 *       (local.set $acc (f32x4.add $acc (f32x4.mul (v128.load (i32.add $q $j)) (v128.load (i32.add $row $j)))))
 *       (br_if $lanes (i32.lt_u (local.tee $j (i32.add $j 16)) $stride))
 *     end
 *     (f32.store (i32.add $out (i32.shl $i 2)) (f32.neg (lane0 + lane1 + lane2 + lane3 of $acc)))
 *     (local.set $i (i32.add $i 1)) (br $rows)
 *   end end)
 * ```
 */
const KERNEL: Uint8Array = (() => {
  const [Q, BASE, IDS, N, STRIDE, OUT, I, ROW, J, ACC] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const get = (l: number) => [0x20, l], set = (l: number) => [0x21, l], tee = (l: number) => [0x22, l];
  const i32 = (v: number) => [0x41, v]; // small non-negative constants (one LEB byte: < 64)
  const simd = (op: number, ...rest: number[]) => [0xfd, ...leb(op), ...rest];
  const lane = (k: number) => simd(0x1f, k);
  const body = [
    0x02, 0x40, 0x03, 0x40, // block $done, loop $rows
    ...get(I), ...get(N), 0x4f, 0x0d, 1, // br_if $done (i >= n)
    ...get(BASE), ...get(IDS), ...get(I), ...i32(2), 0x74, 0x6a, 0x28, 2, 0, ...get(STRIDE), 0x6c, 0x6a, ...set(ROW),
    ...simd(0x0c, ...new Array<number>(16).fill(0)), ...set(ACC), ...i32(0), ...set(J),
    0x03, 0x40, // loop $lanes
    ...get(ACC), ...get(Q), ...get(J), 0x6a, ...simd(0x00, 0, 0), ...get(ROW), ...get(J), 0x6a, ...simd(0x00, 0, 0),
    ...simd(0xe6), ...simd(0xe4), ...set(ACC), // acc += q[j..j+4) * row[j..j+4)
    ...get(J), ...i32(16), 0x6a, ...tee(J), ...get(STRIDE), 0x49, 0x0d, 0, // br_if $lanes (j += 16) < stride
    0x0b,
    ...get(OUT), ...get(I), ...i32(2), 0x74, 0x6a,
    ...get(ACC), ...lane(0), ...get(ACC), ...lane(1), 0x92, ...get(ACC), ...lane(2), 0x92, ...get(ACC), ...lane(3), 0x92, 0x8c,
    0x38, 2, 0, // f32.store
    ...get(I), ...i32(1), 0x6a, ...set(I), 0x0c, 0, // i += 1; br $rows
    0x0b, 0x0b, 0x0b, // end loop, end block, end func
  ];
  const code = [2, 3, 0x7f, 1, 0x7b, ...body]; // locals: 3 × i32, 1 × v128
  const section = (id: number, content: number[]) => [id, ...leb(content.length), ...content];
  const name = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 6, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0]), // type (i32 × 6) → ()
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]), // import env.memory, min 1 page
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('dots'), 0x00, 0]),
    ...section(10, [1, ...leb(code.length), ...code]),
  ]);
})();

/** Unsigned LEB128. */
function leb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}
