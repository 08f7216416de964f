// Input files that README commands name (`readme-test: fixture NAME`), generated small and seeded so the
// commands run in seconds. All four formats carry the same sessions: 900 sessions over 14 days, 240 items,
// next item mostly fixed by the previous two (the synthetic generator), one event a minute within a session.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSessions } from '../../src/synthetic/index.js';

interface FixtureSession {
  id: number;
  items: number[];
  times: number[];
}

const START = Date.UTC(2026, 0, 5);
const SPAN_MS = 14 * 24 * 3600 * 1000;

function sessions(): FixtureSession[] {
  const log = generateSessions({ items: 240, intents: 8, sessions: 900, sequentialProbability: 0.8, seed: 17, testFraction: 0 });
  const all = [...log.train, ...log.test];
  return all.map((s, i) => {
    const start = START + Math.floor((i * SPAN_MS) / all.length);
    return { id: 1000 + i, items: s.items.map((it) => 214_000_000 + Number(it.slice(1))), times: s.items.map((_, q) => start + q * 60_000) };
  });
}

const writers: Record<string, (path: string) => void> = {
  /** Raw RecSys 2015 clicks: `session,ISO time,item,category`, no header. */
  'yoochoose-clicks.dat': (path) => {
    const rows = sessions().flatMap((s) => s.items.map((item, q) => `${s.id},${new Date(s.times[q]!).toISOString()},${item},0`));
    writeFileSync(path, rows.join('\n') + '\n');
  },
  /** Diginetica `train-item-views.csv`: `session_id;user_id;item_id;timeframe;eventdate`, timeframe in ms from the session start. */
  'train-item-views.csv': (path) => {
    const rows = ['session_id;user_id;item_id;timeframe;eventdate'];
    for (const s of sessions()) {
      const day = new Date(s.times[0]!).toISOString().slice(0, 10);
      const dayStart = Date.parse(day);
      s.items.forEach((item, q) => rows.push(`${s.id};NA;${item};${s.times[q]! - dayStart};${day}`));
    }
    writeFileSync(path, rows.join('\n') + '\n');
  },
  /** OTTO `train.jsonl`: one session per line; every third session also puts its last item in the cart. */
  'train.jsonl': (path) => {
    const lines = sessions().map((s) => {
      const events: { aid: number; ts: number; type: string }[] = s.items.map((aid, q) => ({ aid, ts: s.times[q]!, type: 'clicks' }));
      if (s.id % 3 === 0) events.push({ aid: s.items.at(-1)!, ts: s.times.at(-1)! + 1000, type: 'carts' });
      return JSON.stringify({ session: s.id, events });
    });
    writeFileSync(path, lines.join('\n') + '\n');
  },
  /** RetailRocket `events.csv`: `timestamp,visitorid,event,itemid,transactionid`, ms. */
  'events.csv': (path) => {
    const rows = ['timestamp,visitorid,event,itemid,transactionid'];
    for (const s of sessions()) s.items.forEach((item, q) => rows.push(`${s.times[q]},${s.id},view,${item},`));
    writeFileSync(path, rows.join('\n') + '\n');
  },
};

/** Writes fixture `name` into `dir`; throws for a name this test does not know. */
export function writeFixture(dir: string, name: string): void {
  const write = writers[name];
  if (!write) throw new Error(`README names fixture "${name}", which test/readme/fixtures.ts cannot generate (known: ${Object.keys(writers).join(', ')})`);
  write(join(dir, name));
}
