import { describe, expect, it } from 'vitest';
import { commandLine, parseModelSpecs } from '../../../src/cli/evaluate-models.js';
import { LatencyRecorder } from '../../../src/eval/latency.js';

describe('LatencyRecorder', () => {
  it('gives nearest-rank percentiles, the mean and a log-binned histogram that holds every event', () => {
    const rec = new LatencyRecorder();
    for (let i = 100; i >= 1; i--) rec.add(i);
    rec.add(0.001); // below the first edge: first bin
    rec.add(50_000); // beyond the last edge: last bin
    const s = rec.summary();
    expect(s.events).toBe(102);
    expect(s.p50Ms).toBe(50);
    expect(s.p90Ms).toBe(91);
    expect(s.p99Ms).toBe(100);
    expect(s.maxMs).toBe(50_000);
    expect(s.meanMs).toBeCloseTo((5050 + 0.001 + 50_000) / 102, 9);
    const { edgesMs, counts } = s.histogram;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(102);
    expect(counts[0]).toBe(1);
    expect(counts[counts.length - 1]).toBe(1);
    // [1, 1.78) holds 1 ms; [10, 17.8) holds 10..17 ms.
    expect(counts[edgesMs.indexOf(1)]).toBe(1);
    expect(counts[edgesMs.indexOf(10)]).toBe(8);
  });

  it('summarises nothing as zeros', () => {
    const s = new LatencyRecorder().summary();
    expect(s).toMatchObject({ events: 0, meanMs: 0, p50Ms: 0, maxMs: 0 });
  });
});

describe('evaluate command helpers', () => {
  it('splits model lists and rebuilds a shell-quoted command line in the order given', () => {
    expect(parseModelSpecs(['sr,vsknn:variant=session-rec', ' models/gru '])).toEqual(['sr', 'vsknn:variant=session-rec', 'models/gru']);
    expect(() => parseModelSpecs([' , '])).toThrow(/--model is required/);
    expect(commandLine('evaluate', { model: ['sr', 'my model'], test: "it's.tsv", serving: true, quiet: false, k: undefined }))
      .toBe(`nextclick evaluate --model sr --model 'my model' --test 'it'\\''s.tsv' --serving`);
  });
});
