import { InvalidOptionError } from '../../src/errors.js';

/** Sessions over dense item indices in compressed-row form: session s is `items[offsets[s] .. offsets[s+1])`. */
export interface SessionArrays {
  readonly offsets: Int32Array;
  readonly items: Int32Array;
}

/** One mini-batch of the session-parallel scheme. Arrays are reused between steps: copy what you keep. */
export interface SessionBatch {
  /** Active slots this step (≤ batch size); rows 0..size-1 of the arrays below are valid. */
  size: number;
  /** Input item per active slot. */
  readonly inputs: Int32Array;
  /** Next item (the target) per active slot. */
  readonly targets: Int32Array;
  /** Slot index per active row (hidden-state row to use). */
  readonly slots: Int32Array;
  /** 1 where the slot started a new session at this step (its hidden state must be zeroed). */
  readonly reset: Uint8Array;
  /**
   * Where each row's session lies in the data (for the repeat-aware layer): the row's input is
   * `items[position[r]]`, its session starts at `items[start[r]]`. A hand-built batch may leave it out.
   */
  readonly history?: { readonly items: Int32Array; readonly start: Int32Array; readonly position: Int32Array };
}

/**
 * GRU4Rec's session-parallel mini-batches: each of `batchSize` slots follows one session event by event;
 * when a session ends the next one (in the given order — time of first event) takes the slot. When sessions
 * run out, finished slots go idle and the batch shrinks, so every event is trained on.
 * Sessions shorter than 2 events have no target and are skipped.
 */
export class SessionParallelBatcher {
  private readonly slotSession: Int32Array;
  private readonly slotPos: Int32Array;
  private readonly slotFresh: Uint8Array;
  private next = 0;
  readonly batch: SessionBatch;
  /** Total (input, target) pairs in one pass. */
  readonly eventCount: number;

  constructor(private readonly data: SessionArrays, private readonly batchSize: number, private readonly order?: Int32Array) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new InvalidOptionError('batchSize', `batchSize must be an integer ≥ 1, got ${batchSize}`);
    this.slotSession = new Int32Array(batchSize).fill(-1);
    this.slotPos = new Int32Array(batchSize);
    this.slotFresh = new Uint8Array(batchSize);
    this.batch = {
      size: 0, inputs: new Int32Array(batchSize), targets: new Int32Array(batchSize), slots: new Int32Array(batchSize), reset: new Uint8Array(batchSize),
      history: { items: data.items, start: new Int32Array(batchSize), position: new Int32Array(batchSize) },
    };
    let events = 0;
    const n = this.sessionTotal();
    for (let i = 0; i < n; i++) {
      const s = this.sessionAt(i);
      events += Math.max(0, data.offsets[s + 1]! - data.offsets[s]! - 1);
    }
    this.eventCount = events;
    for (let slot = 0; slot < batchSize; slot++) this.fill(slot);
  }

  private sessionTotal(): number {
    return this.order ? this.order.length : this.data.offsets.length - 1;
  }

  private sessionAt(i: number): number {
    return this.order ? this.order[i]! : i;
  }

  private fill(slot: number): void {
    const n = this.sessionTotal();
    while (this.next < n) {
      const s = this.sessionAt(this.next++);
      if (this.data.offsets[s + 1]! - this.data.offsets[s]! >= 2) {
        this.slotSession[slot] = s;
        this.slotPos[slot] = this.data.offsets[s]!;
        this.slotFresh[slot] = 1;
        return;
      }
    }
    this.slotSession[slot] = -1;
  }

  /** Advances one event in every active slot; returns false when all sessions are consumed. */
  step(): boolean {
    const b = this.batch;
    let size = 0;
    for (let slot = 0; slot < this.batchSize; slot++) {
      const s = this.slotSession[slot]!;
      if (s < 0) continue;
      const p = this.slotPos[slot]!;
      b.inputs[size] = this.data.items[p]!;
      b.targets[size] = this.data.items[p + 1]!;
      b.slots[size] = slot;
      b.reset[size] = this.slotFresh[slot]!;
      b.history!.start[size] = this.data.offsets[s]!;
      b.history!.position[size] = p;
      this.slotFresh[slot] = 0;
      size++;
      if (p + 2 >= this.data.offsets[s + 1]!) this.fill(slot);
      else this.slotPos[slot] = p + 1;
    }
    b.size = size;
    return size > 0;
  }
}
