import { mkdtemp, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClickLog, writeMsgpackLog } from '../../../src/data/index.js';
import { MsgpackCodec } from '../../../src/events/msgpack-codec.js';
import type { ClickEvent } from '../../../src/events/click-event.js';

describe('msgpack click logs', () => {
  it('round-trips many events across read-chunk boundaries, with the wire encoding', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mplog-'));
    const path = join(dir, 'log.msgpack');
    const events: ClickEvent[] = Array.from({ length: 20_000 }, (_, i) => ({ sessionId: `s${i % 97}`, itemId: i % 3 === 0 ? `sku-${i}` : i, timestamp: 1_700_000_000_000 + i, ...(i % 5 === 0 ? { eventType: 'cart' } : {}) }));
    expect(await writeMsgpackLog(path, events)).toBe(events.length);
    const back: ClickEvent[] = [];
    const log = readClickLog(path, { format: 'msgpack' });
    for await (const e of log) back.push(e);
    expect(back).toEqual(events);
    expect(log.stats.events).toBe(events.length);
  });

  it('reports an invalid record by number, or skips and counts it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mplog-'));
    const path = join(dir, 'bad.msgpack');
    const c = new MsgpackCodec();
    await writeFile(path, c.encode({ sessionId: 'a', itemId: 1, timestamp: 1 }));
    await appendFile(path, c.encode({ sessionId: 'a', timestamp: 2 }));
    await appendFile(path, c.encode({ sessionId: 'a', itemId: 3, timestamp: 3 }));
    const strict = async () => { for await (const _ of readClickLog(path, { format: 'msgpack' })) void _; };
    await expect(strict()).rejects.toThrow(/:2: missing required field "itemId"/);
    const lenient = readClickLog(path, { format: 'msgpack', onBadLine: 'skip' });
    const got: ClickEvent[] = [];
    for await (const e of lenient) got.push(e);
    expect(got.map((e) => e.itemId)).toEqual([1, 3]);
    expect(lenient.stats.badLines).toBe(1);
  });

  it('fails with a typed error on a missing file and on truncated bytes', async () => {
    const drain = async (p: string) => { for await (const _ of readClickLog(p, { format: 'msgpack' })) void _; };
    await expect(drain('/nonexistent/x.msgpack')).rejects.toThrowError(expect.objectContaining({ code: 'FILE_NOT_FOUND' }) as Error);
    const dir = await mkdtemp(join(tmpdir(), 'mplog-'));
    const path = join(dir, 'trunc.msgpack');
    await writeFile(path, Buffer.from([0xc1, 0xc1, 0xc1]));
    await expect(drain(path)).rejects.toThrowError(expect.objectContaining({ code: expect.stringMatching(/PARSE_FAILED|INVALID_EVENT/) as string }) as Error);
    // A cut-off last record is an error, never silently dropped.
    const c = new MsgpackCodec();
    const cut = join(dir, 'cut.msgpack');
    await writeFile(cut, Buffer.concat([c.encode({ sessionId: 'a', itemId: 1, timestamp: 1 }), c.encode({ sessionId: 'b', itemId: 2, timestamp: 2 }).subarray(0, 5)]));
    await expect(drain(cut)).rejects.toThrow(/after record 1: Unexpected end/);
  });
});
