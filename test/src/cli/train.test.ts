import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { loadModelPackages, registerTrainer, trainers } from '../../../src/cli/trainers.js';
import { captureIo } from '../../helpers/capture-io.js';

const capture = captureIo;

const dirs: string[] = [];
afterAll(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });

async function tinyLog(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nextclick-train-'));
  dirs.push(dir);
  const rows = ['SessionId\tItemId\tTime', '1\t10\t100', '1\t11\t101', '1\t12\t102', '2\t10\t200', '2\t11\t201', '3\t11\t300', '3\t12\t301'];
  await writeFile(join(dir, 'train.tsv'), rows.join('\n') + '\n');
  return dir;
}

describe('nextclick train', () => {
  it('lists every baseline kind as a lazily loaded trainer', async () => {
    for (const kind of ['pop', 'itemknn', 'sr', 'vsknn']) {
      const t = await trainers[kind]!();
      expect(t.kind).toBe(kind);
      expect(t.describe).toContain(kind);
    }
  });

  it('trains and saves a model directory, reporting JSON', async () => {
    const dir = await tinyLog();
    const out = join(dir, 'sr-model');
    const c = capture();
    const code = await main(['train', '--train', join(dir, 'train.tsv'), '--model', 'sr', '--out', out, '--param', 'steps=3', '--json'], c.io);
    expect(code).toBe(0);
    const res = JSON.parse(c.text().stdout) as { ok: boolean; kind: string; itemCount: number; sessions: number };
    expect(res).toMatchObject({ ok: true, kind: 'sr', itemCount: 3, sessions: 3 });
    const manifest = JSON.parse(await readFile(join(out, 'model.json'), 'utf8')) as { kind: string; config: { steps: number } };
    expect(manifest.kind).toBe('sr');
    expect(manifest.config.steps).toBe(3);
    expect(existsSync(join(out, 'vocabulary.json'))).toBe(true);
    expect(existsSync(join(out, 'model.bin'))).toBe(true);
  });

  it('fails with usage errors for unknown models and bad params', async () => {
    const dir = await tinyLog();
    const c = capture();
    expect(await main(['train', '--train', join(dir, 'train.tsv'), '--model', 'nope', '--out', join(dir, 'x')], c.io)).toBe(2);
    expect(c.text().stderr).toMatch(/unknown model "nope"/);
    const d = capture();
    expect(await main(['train', '--train', join(dir, 'train.tsv'), '--model', 'sr', '--out', join(dir, 'x'), '--param', 'steps'], d.io)).toBe(2);
    expect(d.text().stderr).toMatch(/key=value/);
    const e = capture();
    expect(await main(['train', '--train', join(dir, 'train.tsv'), '--model', 'vsknn', '--out', join(dir, 'x'), '--param', 'bogus=1', '--json'], e.io)).toBe(2);
    expect(JSON.parse(e.text().stdout)).toMatchObject({ ok: false, error: { code: 'INVALID_OPTION' } });
  });

  it('runs a trainer registered by a model package', async () => {
    const seen: Record<string, string>[] = [];
    registerTrainer('fake', async () => ({
      kind: 'fake',
      describe: 'test trainer',
      async train(req) {
        seen.push(req.params);
        return { kind: 'fake', outDir: req.outDir, itemCount: 7, seconds: 0.5 };
      },
    }));
    const dir = await tinyLog();
    const c = capture();
    expect(await main(['train', '--train', join(dir, 'train.tsv'), '--model', 'fake', '--out', join(dir, 'unused'), '--param', 'epochs=2', '--json'], c.io)).toBe(0);
    expect(JSON.parse(c.text().stdout)).toMatchObject({ ok: true, kind: 'fake', itemCount: 7 });
    expect(seen).toEqual([{ epochs: '2' }]);
    delete trainers['fake'];
  });

  it('loads the optional model packages without failing', async () => {
    const failure = await loadModelPackages();
    expect(failure === undefined || typeof failure === 'string').toBe(true);
    expect(await loadModelPackages()).toBe(failure); // loaded once
  });
});
