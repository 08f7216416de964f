// Types for workload.mjs (kept as plain ESM so the GPU bundle runs it without a TypeScript build).
import type * as tfc from '@tensorflow/tfjs-core';

type Tf = typeof tfc;
export interface WeightShape { n: number; d: number; h: number }
export interface WeightArrays { E: Float32Array; Wx: Float32Array; bx: Float32Array; Wh: Float32Array; WoT: Float32Array; bo: Float32Array; shape: WeightShape }
export interface WeightTensors { E: tfc.Tensor2D; Wx: tfc.Tensor2D; bx: tfc.Tensor1D; Wh: tfc.Tensor2D; WoT: tfc.Tensor2D; bo: tfc.Tensor1D; shape: WeightShape }
export function seededArray(length: number, seed: number, scale?: number): Float32Array;
export function seededInts(length: number, n: number, seed: number): Int32Array;
export function initialWeights(o: { items: number; embedding: number; hidden: number; seed?: number }): WeightArrays;
export function upload(tf: Tf, w: WeightArrays): WeightTensors;
export function disposeWeights(tf: Tf, t: WeightTensors): void;
export function scoreAll(tf: Tf, t: WeightTensors, hidden: tfc.Tensor2D): tfc.Tensor2D;
export function inferStep(tf: Tf, t: WeightTensors, items: tfc.Tensor1D, hPrev: tfc.Tensor2D, k: number): { hNew: tfc.Tensor2D; scores: tfc.Tensor2D; values: tfc.Tensor2D; indices: tfc.Tensor2D };
export function trainStep(tf: Tf, t: WeightTensors, items: tfc.Tensor1D, targets: tfc.Tensor1D, hPrev: tfc.Tensor2D, lr: number, negatives?: tfc.Tensor1D): { weights: WeightTensors; hNew: tfc.Tensor2D; loss: tfc.Scalar };
export function readWeights(t: WeightTensors): Promise<Record<'E' | 'Wx' | 'bx' | 'Wh' | 'WoT' | 'bo', Float32Array>>;
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number;
