// Embedded use of a GRU4Rec model inside a Node service, through the Recommender facade.
//
//   npm run build
//   node dist/examples/embedded-service.js [MODEL_DIR]
//
// With no MODEL_DIR it first trains a tiny GRU4Rec on a synthetic log (a few seconds) and saves it to a
// temporary directory. Train a real one with:
//   nextclick train --model gru4rec --train ../shared/data/yoochoose-100k/train.tsv --out ./model --param epochs=5
// It imports only the package's public entry points, as an application does (`nextclick` resolves to this package).
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender, buildCorpus, generateSessions } from 'nextclick';
import { saveGru4Rec, trainGru4Rec } from 'nextclick/models';

let dir = process.argv[2];
if (!dir) {
  const log = generateSessions({ items: 300, sessions: 3000, seed: 7 });
  const corpus = await buildCorpus(log.train.map((s) => ({ items: s.items })));
  const model = await trainGru4Rec(corpus, { config: { layers: [48], epochs: 3, nSample: 128, batchSize: 32, validationFraction: 0 } });
  dir = await mkdtemp(join(tmpdir(), 'nextclick-gru4rec-'));
  await saveGru4Rec(dir, model);
  console.log(`trained a tiny GRU4Rec in ${model.trainSeconds.toFixed(1)} s → ${dir}`);
}

const rec = await Recommender.load(dir, { k: 5 });
try {
  // Each click updates the session's GRU state (one step) and returns the session's top-k.
  const clicks = [
    { sessionId: 'visitor-1', itemId: 'i3', timestamp: Date.now() },
    { sessionId: 'visitor-2', itemId: 'i10', timestamp: Date.now() + 5 },
    { sessionId: 'visitor-1', itemId: 'i4', timestamp: Date.now() + 10 },
  ];
  for (const click of clicks) {
    const top = await rec.observe(click);
    console.log(`${click.sessionId} clicked ${click.itemId} →`, top?.items ?? '(nothing to recommend)');
  }
  // Recommendations for a live session without a new click, hiding an item.
  const again = await rec.recommend('visitor-1', { k: 3, exclude: ['i4'] });
  console.log('visitor-1, top 3 without i4 →', again?.items);
  const { events, recommendations, liveSessions } = rec.stats();
  console.log({ events, recommendations, liveSessions });
} finally {
  await rec.close();
}
