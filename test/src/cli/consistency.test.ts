// The CLI behaves the same way in every command: --help lists every flag and model kind, bad input exits 2
// naming the file, --out never silently overwrites, and input bytes are never echoed raw.
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectedBackend } from '../../../src/backend/select-backend.js';
import { main } from '../../../src/cli/main.js';
import { captureIo } from '../../helpers/capture-io.js';
import { HEAVY_TEST_TIMEOUT_MS } from '../../helpers/timeouts.js';

let dir: string;
const header = 'SessionId\tItemId\tTime';
const trainRows = [header, '1\t10\t100', '1\t11\t101', '1\t12\t102', '2\t10\t200', '2\t11\t201', '3\t11\t300', '3\t12\t301'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nextclick-cli-'));
  await writeFile(join(dir, 'train.tsv'), trainRows.join('\n') + '\n');
  await writeFile(join(dir, 'header-only.tsv'), `${header}\n`);
  await writeFile(join(dir, 'other-items.tsv'), [header, '7\t90\t100', '7\t91\t101'].join('\n') + '\n');
  await writeFile(join(dir, 'mostly-unknown.tsv'), [header, '7\t10\t100', '7\t11\t101', '7\t90\t102', '7\t91\t103', '7\t92\t104'].join('\n') + '\n');
  // Deterministic "binary" bytes (a fixed pseudo-random sequence): no newline for 4 KB, many undecodable bytes.
  const bytes = Buffer.alloc(4096);
  let x = 12345;
  for (let i = 0; i < bytes.length; i++) { x = (x * 1103515245 + 12345) >>> 0; bytes[i] = (x >>> 16) & 0xff || 1; }
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) bytes[i] = 0x80;
  await writeFile(join(dir, 'binary.tsv'), bytes);
  await writeFile(join(dir, 'binary-line.tsv'), Buffer.concat([Buffer.from(`${trainRows.slice(0, 3).join('\n')}\n`), bytes.subarray(0, 600), Buffer.from('\n2\t10\t200\n2\t11\t201\n')]));
});
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

async function run(...argv: string[]) {
  const c = captureIo();
  const code = await main(argv, c.io);
  return { code, ...c.text() };
}

describe('--help', () => {
  it('lists every option of every command, and --json', async () => {
    for (const name of ['demo', 'prepare', 'train', 'evaluate', 'replay']) {
      const { command } = (await import(`../../../src/cli/commands/${name}.ts`)) as { command: { options: Record<string, unknown> } };
      const { code, stdout } = await run(name, '--help');
      expect(code).toBe(0);
      for (const option of [...Object.keys(command.options), 'json']) expect(stdout, `${name} --help`).toContain(`--${option}`);
    }
  });

  it('lists every model kind: train (with parameters), evaluate (saved kinds), demo (trained models)', async () => {
    const kinds = ['pop', 'itemknn', 'sr', 'vsknn', 'gru4rec', 'transformer', 'bst-ranker'];
    const train = await run('train', '--help');
    for (const k of kinds) expect(train.stdout).toMatch(new RegExp(`^  ${k} +\\S`, 'm'));
    expect(train.stdout).toMatch(/gru4rec .*layers=/);
    const evaluate = await run('evaluate', '--help');
    for (const k of kinds) expect(evaluate.stdout).toMatch(new RegExp(`Saved model kinds.*\\b${k}\\b`));
    const demo = await run('demo', '--help');
    for (const k of ['pop', 'itemknn', 'sr', 'vsknn', 'gru4rec', 'transformer']) expect(demo.stdout).toMatch(new RegExp(`Models it trains:.*\\b${k}\\b`));
  });
});

describe('bad input exits 2 and names the file', () => {
  it('model directories: missing manifest, broken manifest, unknown kind, missing vocabulary', async () => {
    const test = join(dir, 'train.tsv');
    const empty = join(dir, 'not-a-model');
    await mkdir(empty, { recursive: true });
    let r = await run('evaluate', '--model', empty, '--test', test);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`${empty} is not a model directory`)]);

    const broken = join(dir, 'broken-model');
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, 'model.json'), '{"format": "nextclick.model", ');
    r = await run('evaluate', '--model', broken, '--test', test);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(join(broken, 'model.json'))]);

    await writeFile(join(broken, 'model.json'), JSON.stringify({ format: 'nextclick.model', version: 1, kind: 'nope', config: {}, createdAt: '', itemCount: 1 }));
    r = await run('evaluate', '--model', broken, '--test', test);
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/no loader for model kind "nope"/)]);

    const trained = join(dir, 'no-vocab');
    expect((await run('train', '--train', test, '--model', 'sr', '--out', trained)).code).toBe(0);
    await rm(join(trained, 'vocabulary.json'));
    r = await run('evaluate', '--model', trained, '--test', test);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(join(trained, 'vocabulary.json'));
  });

  it('a missing or directory input path', async () => {
    let r = await run('train', '--train', join(dir, 'missing.tsv'), '--model', 'sr', '--out', join(dir, 'never'));
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(join(dir, 'missing.tsv'))]);
    r = await run('train', '--train', dir, '--model', 'sr', '--out', join(dir, 'never'));
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(dir)]);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('an empty training or test log (header only) is an error, as in prepare', async () => {
    let r = await run('train', '--train', join(dir, 'header-only.tsv'), '--model', 'pop', '--out', join(dir, 'empty-model'), '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', file: join(dir, 'header-only.tsv') } });
    expect(existsSync(join(dir, 'empty-model'))).toBe(false);
    r = await run('evaluate', '--model', 'pop', '--train', join(dir, 'train.tsv'), '--test', join(dir, 'header-only.tsv'));
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/test log .*header-only\.tsv holds no events/)]);
  });

  it('evaluate on a log sharing no items with the model is an error; mostly unknown items warn', async () => {
    let r = await run('evaluate', '--model', 'sr', '--train', join(dir, 'train.tsv'), '--test', join(dir, 'other-items.tsv'), '--quiet');
    expect([r.code, r.stderr]).toEqual([2, expect.stringMatching(/other-items\.tsv shares no items with the model/)]);
    r = await run('evaluate', '--model', 'sr', '--train', join(dir, 'train.tsv'), '--test', join(dir, 'mostly-unknown.tsv'), '--json');
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { predictions: number; skippedOovTargets: number; warnings: string[] };
    expect([body.predictions, body.skippedOovTargets]).toEqual([1, 3]);
    expect(body.warnings).toEqual([expect.stringMatching(/75\.0% of the test log's next items \(3 of 4\) are unknown/)]);
    expect(r.stderr).toMatch(/warning: .*75\.0%/);
  });

  it('binary input is never echoed: a short printable excerpt, the file named', async () => {
    for (const file of ['binary.tsv', 'binary-line.tsv']) {
      const r = await run('train', '--train', join(dir, file), '--model', 'sr', '--out', join(dir, 'bin-model'));
      expect(r.code, file).toBe(2);
      expect(r.stderr, file).toContain(join(dir, file));
      expect(r.stderr.length, file).toBeLessThan(600);
      // Only printable ASCII (escapes included) and the typographic ellipsis.
      expect(r.stderr.replace(/\n$/, ''), file).toMatch(/^[\x20-\x7e…]+$/);
    }
  });

  it('bad-line hints name --skip-bad-lines, which train and evaluate accept', async () => {
    let r = await run('train', '--train', join(dir, 'binary-line.tsv'), '--model', 'sr', '--out', join(dir, 'skip-model'));
    expect(r.stderr).toMatch(/binary-line\.tsv:4: .*--skip-bad-lines/);
    r = await run('train', '--train', join(dir, 'binary-line.tsv'), '--model', 'sr', '--out', join(dir, 'skip-model'), '--skip-bad-lines', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, sessions: 2 });
    r = await run('evaluate', '--model', join(dir, 'skip-model'), '--test', join(dir, 'binary-line.tsv'), '--skip-bad-lines', '--json');
    expect(r.code).toBe(0);
  });

  it('demo --sessions -5 says what it expects', async () => {
    const r = await run('demo', '--sessions', '-5');
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('--sessions expects a whole number of sessions ≥ 1, got "-5"')]);
  });

  it('--param values of a neural model are checked before the TensorFlow.js backend loads', { timeout: HEAVY_TEST_TIMEOUT_MS }, async () => {
    expect(selectedBackend()).toBeUndefined();
    for (const kind of ['gru4rec', 'transformer']) {
      const r = await run('train', '--train', join(dir, 'train.tsv'), '--model', kind, '--out', join(dir, `${kind}-x`), '--param', 'epochs=-1');
      expect([r.code, r.stderr], kind).toEqual([2, expect.stringMatching(/epochs/)]);
      expect(r.stderr, kind).not.toMatch(/^\{/m); // no JSON log lines
    }
    expect(selectedBackend()).toBeUndefined();
  });
});

describe('--out', () => {
  it('refuses an existing file or model directory without --force', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'keep me');
    let r = await run('train', '--train', join(dir, 'train.tsv'), '--model', 'pop', '--out', file);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`--out ${file} is an existing file; pass --force`)]);
    expect(await readFile(file, 'utf8')).toBe('keep me');

    const model = join(dir, 'out-model');
    expect((await run('train', '--train', join(dir, 'train.tsv'), '--model', 'pop', '--out', model)).code).toBe(0);
    const before = await readFile(join(model, 'model.json'), 'utf8');
    r = await run('train', '--train', join(dir, 'train.tsv'), '--model', 'sr', '--out', model);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`--out ${model} already holds a model; pass --force`)]);
    expect(await readFile(join(model, 'model.json'), 'utf8')).toBe(before);
  });

  it('with --force replaces a model directory cleanly, and keeps the old one when training fails', async () => {
    const model = join(dir, 'forced');
    expect((await run('train', '--train', join(dir, 'train.tsv'), '--model', 'pop', '--out', model)).code).toBe(0);
    await writeFile(join(model, 'stale.bin'), 'old');
    await mkdir(join(model, 'checkpoint'));
    // A failure after the old directory was moved aside puts it back.
    let r = await run('train', '--train', join(dir, 'train.tsv'), '--model', 'sr', '--out', model, '--force', '--param', 'bogus=1');
    expect(r.code).toBe(2);
    expect(JSON.parse(await readFile(join(model, 'model.json'), 'utf8'))).toMatchObject({ kind: 'pop' });
    expect(existsSync(join(model, 'stale.bin'))).toBe(true);
    r = await run('train', '--train', join(dir, 'train.tsv'), '--model', 'sr', '--out', model, '--force');
    expect(r.code).toBe(0);
    expect(readdirSync(model).sort()).toEqual(['model.bin', 'model.json', 'vocabulary.json']);
    expect(JSON.parse(await readFile(join(model, 'model.json'), 'utf8'))).toMatchObject({ kind: 'sr' });
    expect(readdirSync(dirname(model)).filter((f) => f.startsWith('forced.'))).toEqual([]); // nothing left aside
  });

  it('--force refuses a --candidates stage inside the --out it replaces', async () => {
    const model = join(dir, 'in-place');
    expect((await run('train', '--train', join(dir, 'train.tsv'), '--model', 'pop', '--out', model)).code).toBe(0);
    const before = await readFile(join(model, 'model.json'), 'utf8');
    const r = await run('train', '--train', join(dir, 'train.tsv'), '--model', 'bst-ranker', '--candidates', model, '--out', model, '--force');
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`--candidates ${model} is inside --out ${model}`)]);
    expect(await readFile(join(model, 'model.json'), 'utf8')).toBe(before); // put back untouched
    expect(readdirSync(dir).filter((f) => f.startsWith('in-place.'))).toEqual([]);
  });

  it('--force replaces a file, but never a non-empty directory that is not a model', async () => {
    const file = join(dir, 'replace-me');
    await writeFile(file, 'x');
    expect((await run('train', '--train', join(dir, 'train.tsv'), '--model', 'pop', '--out', file, '--force')).code).toBe(0);
    expect(existsSync(join(file, 'model.json'))).toBe(true);
    const other = join(dir, 'someones-folder');
    await mkdir(other);
    await writeFile(join(other, 'notes.txt'), 'precious');
    const r = await run('train', '--train', join(dir, 'train.tsv'), '--model', 'pop', '--out', other, '--force');
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('not a model directory')]);
    expect(readdirSync(other)).toEqual(['notes.txt']);
  });

  it('prepare refuses a folder holding an earlier run unless --force, and a file', async () => {
    const input = join(dir, 'raw.csv');
    const rows = ['s,i,t'];
    for (let s = 0; s < 6; s++) for (let i = 0; i < 3; i++) rows.push(`s${s},i${i},${1_700_000_000_000 + s * 86_400_000 + i * 1000}`);
    await writeFile(input, rows.join('\n') + '\n');
    const args = ['prepare', '--input', input, '--format', 'csv', '--columns', 'sessionId=s,itemId=i,timestamp=t', '--time-unit', 'ms', '--min-item-support', '1'];
    const out = join(dir, 'prepared');
    expect((await run(...args, '--out', out)).code).toBe(0);
    let r = await run(...args, '--out', out);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining('already holds train.tsv, test.tsv, stats.json; pass --force')]);
    expect((await run(...args, '--out', out, '--force')).code).toBe(0);
    r = await run(...args, '--out', input);
    expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(`--out ${input} is a file`)]);
  });
});

describe('neural model directories', () => {
  // Last in the file: it loads the TensorFlow.js backend, which the --param test above checks is not loaded.
  it('--force with --from inside --out continues training in place, leaving only the new model', { timeout: HEAVY_TEST_TIMEOUT_MS }, async () => {
    const model = join(dir, 'gru-in-place');
    const tiny = ['--param', 'epochs=1', '--param', 'layers=8', '--param', 'nSample=0', '--json'];
    expect((await run('train', '--train', join(dir, 'train.tsv'), '--model', 'gru4rec', '--out', model, ...tiny)).code).toBe(0);
    const first = JSON.parse(await readFile(join(model, 'model.json'), 'utf8')) as { createdAt: string };
    const r = await run('train', '--train', join(dir, 'train.tsv'), '--model', 'gru4rec', '--from', model, '--out', model, '--force', ...tiny);
    expect(r.code, r.stdout).toBe(0);
    const second = JSON.parse(await readFile(join(model, 'model.json'), 'utf8')) as { createdAt: string; kind: string };
    expect(second.kind).toBe('gru4rec');
    expect(second.createdAt).not.toBe(first.createdAt); // the new model, not the old one put back
    expect(readdirSync(dir).filter((f) => f.startsWith('gru-in-place.'))).toEqual([]);
    expect((await run('evaluate', '--model', model, '--test', join(dir, 'train.tsv'), '--json')).code).toBe(0);
  });

  it('truncated GRU4Rec weights exit 2 with a MODEL_FORMAT error naming the weights file', { timeout: HEAVY_TEST_TIMEOUT_MS }, async () => {
    const model = join(dir, 'gru');
    const trained = await run('train', '--train', join(dir, 'train.tsv'), '--model', 'gru4rec', '--out', model, '--param', 'epochs=1', '--param', 'layers=8', '--param', 'nSample=0', '--json');
    expect(trained.code).toBe(0);
    const shard = join(model, 'weights.bin');
    await truncate(shard, 100);
    const r = await run('evaluate', '--model', model, '--test', join(dir, 'train.tsv'), '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: 'MODEL_FORMAT', message: expect.stringContaining(`${shard} holds 100 bytes`) } });
  });
});
