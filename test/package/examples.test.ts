// examples/ are compiled by `npm run build` (dist/examples/) and import only the public entry points.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const examples = ['embedded-service', 'kafka-worker'];

describe('examples', () => {
  it.each(examples)('%s imports only nextclick, its subpaths and packages, never a relative path', async (name) => {
    const source = await readFile(join(root, 'examples', `${name}.ts`), 'utf8');
    const specifiers = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]!);
    expect(specifiers.length).toBeGreaterThan(0);
    for (const s of specifiers) expect(s).toMatch(/^(node:|nextclick(\/(models|kafka|pool))?$|prom-client$)/);
  });

  it('the build compiles both (dist/examples/*.js); the Kafka worker without arguments prints its usage and exits 2', async () => {
    for (const name of examples) expect(existsSync(join(root, 'dist/examples', `${name}.js`)), `dist/examples/${name}.js (run npm run build)`).toBe(true);
    const r = await exec(process.execPath, [join(root, 'dist/examples/kafka-worker.js')], { cwd: root, timeout: 300_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r).toEqual({ code: 2, stderr: 'usage: kafka-worker MODEL_DIR [BROKERS] [INPUT_TOPIC] [OUTPUT_TOPIC]\n' });
  });

  it('the embedded service trains a tiny GRU4Rec, loads it through Recommender.load and recommends', async () => {
    const { stdout } = await exec(process.execPath, [join(root, 'dist/examples/embedded-service.js')], { cwd: root, timeout: 600_000 });
    expect(stdout).toMatch(/^trained a tiny GRU4Rec in [\d.]+ s → /m);
    const top = /^visitor-1 clicked i3 → \[ (.*) \]$/m.exec(stdout);
    expect(top?.[1]?.split(', ')).toHaveLength(5);
    expect(stdout).toMatch(/^visitor-1, top 3 without i4 → \[ '\w+', '\w+', '\w+' \]$/m);
    expect(stdout).not.toMatch(/without i4 → \[.*'i4'/);
    expect(stdout).toContain('{ events: 3, recommendations: 3, liveSessions: 2 }');
  }, 600_000);
});
