import { describe, expect, it } from 'vitest';
import { ProgressBar } from '../../../src/instrumentation/progress.js';

/** A stream that records writes, and a clock the test moves by hand: no wall-clock dependence. */
function setup(isTTY: boolean) {
  const writes: string[] = [];
  const stream = { isTTY, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream;
  let now = 1_000;
  const clock = { now: () => now, advance: (ms: number) => { now += ms; } };
  return { writes, stream, clock };
}

describe('ProgressBar', () => {
  it('redraws on a TTY once per interval of its clock, and finishes with a newline', () => {
    const { writes, stream, clock } = setup(true);
    const bar = new ProgressBar({ label: 'train', total: 10, unit: 'steps', stream, clock: clock.now });
    bar.update(1); // at the start: no redraw yet
    expect(writes).toEqual([]);
    clock.advance(199);
    bar.update(2);
    expect(writes).toEqual([]);
    clock.advance(1);
    bar.update(3, 'loss 2.5');
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe('\r\x1b[Ktrain [#######.................] 30.0% 3/10 eta 0s 15 steps/s 0.2s loss 2.5');
    bar.update(4); // same instant: no redraw
    clock.advance(500);
    bar.update(5);
    expect(writes).toHaveLength(2);
    bar.finish();
    bar.finish(); // idempotent
    expect(writes).toHaveLength(3);
    expect(writes[2]).toMatch(/^\r\x1b\[Ktrain \[#{12}\.{12}\] 50\.0% 5\/10 7\.1 steps\/s 0\.7s loss 2\.5\n$/);
  });

  it('prints whole lines every 5 s of its clock when not on a TTY', () => {
    const { writes, stream, clock } = setup(false);
    const bar = new ProgressBar({ label: 'read', unit: 'events', stream, clock: clock.now });
    for (let i = 1; i <= 100; i++) { clock.advance(100); bar.update(i); } // 10 s
    expect(writes).toEqual(['read 50 10 events/s 5.0s\n', 'read 100 10 events/s 10.0s\n']);
    bar.finish('done');
    expect(writes.at(-1)).toBe('read 100 10 events/s 10.0s done\n');
  });

  it('draws nothing when silent', () => {
    const { writes, stream, clock } = setup(true);
    const bar = new ProgressBar({ label: 'x', stream, clock: clock.now, silent: true });
    clock.advance(10_000);
    bar.update(5);
    bar.finish();
    expect(writes).toEqual([]);
  });
});
