// The published package as a strict TypeScript consumer sees it: pack dist/ (built by `npm test`'s pretest), install
// the tarball into a fresh directory with TypeScript 7 and 5.9 and nothing else (npm adds the declared peer
// @types/node), then compile one consumer per entry point with `strict`, no skipLibCheck, module nodenext.
// Needs the npm registry (CI has it). Slow on a busy machine (an install of ~150 packages), never timed.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const compilers = { 'TypeScript 7': 'typescript7', 'TypeScript 5.9': 'typescript59' } as const;

/**
 * Two programs: the core entry alone (no kafkajs in it, whose types would bring Node's for it), and every entry point.
 */
const consumers: Record<string, string> = {
  core: `
import { Recommender, Sessionizer, MostPopular, ItemVocabulary, evaluateReplay, readClickLog, generateSessions, trainBaseline,
  NextclickError, isNextclickError, type ClickEvent, type SessionRecommendation, type Scorer, type EvaluationResult } from 'nextclick';
const event: ClickEvent = { sessionId: 's-1', itemId: 'sku-42', timestamp: Date.now() };
export async function embedded(dir: string): Promise<SessionRecommendation | undefined> {
  const rec = await Recommender.load(dir, { k: 10 });
  try {
    return await rec.observe(event);
  } catch (err) {
    if (isNextclickError(err)) throw new NextclickError(err.code, err.message);
    throw err;
  } finally {
    await rec.close();
  }
}
export const used = [Sessionizer, MostPopular, ItemVocabulary, evaluateReplay, readClickLog, generateSessions, trainBaseline];
export type Used = [Scorer, EvaluationResult];
`,
  // Every subpath together (what a Kafka service with neural models imports).
  all: `
import { Recommender } from 'nextclick';
import { trainGru4Rec, Gru4RecScorer, trainTransformer, TransformerScorer, selectBackend, type Gru4RecConfig, type TransformerConfig } from 'nextclick/models';
import { KafkaStreamWorker, StreamMetrics, startMetricsServer, type KafkaStreamWorkerOptions } from 'nextclick/kafka';
import { RecommenderPool, type RecommenderPoolOptions } from 'nextclick/pool';
export async function pooled(dir: string, options: RecommenderPoolOptions): Promise<void> {
  const pool = await RecommenderPool.load(dir, options);
  await pool.close();
}
export const used = [Recommender, trainGru4Rec, Gru4RecScorer, trainTransformer, TransformerScorer, selectBackend, KafkaStreamWorker, StreamMetrics, startMetricsServer];
export type Used = [Gru4RecConfig, TransformerConfig, KafkaStreamWorkerOptions];
`,
};

async function run(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; output: string }> {
  try {
    const { stdout, stderr } = await exec(command, args, { cwd, timeout: 900_000, maxBuffer: 64 << 20 });
    return { code: 0, stdout, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.stdout || e.stderr ? '' : e.message}` };
  }
}

describe('the packed package compiles for a strict TypeScript consumer', () => {
  let app = '';

  beforeAll(async () => {
    if (!existsSync(join(root, 'dist/index.d.ts'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    const work = await mkdtemp(join(tmpdir(), 'nextclick-consumer-'));
    // --ignore-scripts: pack the dist/ that pretest built rather than rebuilding it under the other test files' feet.
    const packed = await run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root);
    expect(packed.code, packed.output).toBe(0);
    const tarball = join(work, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]!.filename);
    app = join(work, 'app');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // Both compilers side by side (npm aliases); the package's install scripts are not needed to type-check.
    const installed = await run(npm, ['install', tarball, 'typescript7@npm:typescript@^7', 'typescript59@npm:typescript@~5.9',
      '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], app);
    expect(installed.code, installed.output).toBe(0);
    for (const [entry, source] of Object.entries(consumers)) {
      await writeFile(join(app, `${entry}.ts`), source);
      await writeFile(join(app, `tsconfig.${entry}.json`), JSON.stringify({
        compilerOptions: {
          module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noUncheckedIndexedAccess: true,
          exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true,
        },
        files: [`${entry}.ts`],
      }));
    }
  }, 1_200_000);

  for (const [label, dir] of Object.entries(compilers)) {
    it(`${label}: nextclick alone, and with /models, /kafka and /pool, compiles with zero errors`, async () => {
      const version = await run(process.execPath, [join(app, 'node_modules', dir, 'bin', 'tsc'), '--version'], app);
      expect(version.output).toMatch(label === 'TypeScript 7' ? /Version 7\./ : /Version 5\.9\./);
      for (const entry of Object.keys(consumers)) {
        const r = await run(process.execPath, [join(app, 'node_modules', dir, 'bin', 'tsc'), '-p', `tsconfig.${entry}.json`], app);
        expect({ entry, code: r.code, errors: r.output.trim() }).toEqual({ entry, code: 0, errors: '' });
      }
    }, 1_200_000);
  }
});
