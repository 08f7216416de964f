// Runs the shell and TypeScript blocks of README.md, in order, in one scratch directory, so the README cannot
// drift from the CLI and the API.
//
// - `npx nextclick ARGS` runs the CLI's `main(ARGS)` in this process (the same code as bin/nextclick.js,
//   without needing a build), and must exit 0; with --json its stdout must be one JSON value.
// - Markers before a block (see readme-blocks.ts) skip what cannot run here, shrink inputs and training
//   (`replace`), and name the input files the test generates (`fixture`, see fixtures.ts).
// - Skipped nextclick commands are not run, but their flags are still checked against the command's options.
// - A ```ts block is compiled with esbuild (types stripped) and run with its `import { ... } from 'nextclick'`
//   bound to the project's entry point (index.ts), in the same scratch directory, so it sees the models the
//   shell blocks above it trained. It must not throw.
// - Kafka: the README's broker address 127.0.0.1:9092 becomes the test broker (vitest globalSetup; this file
//   has "kafka" in its name so selecting it starts one), and every topic name gets a per-run suffix. The test
//   creates the topics the README tells the user to create. A `background` stream runs beside the next block,
//   then gets SIGTERM once its consumer group has no lag; it must exit 0, with one recommendation per replayed
//   event and no dead letters. Without a broker these blocks skip with the reason.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { commands, main } from '../../src/cli/main.js';
import { readTopic } from '../../streaming/kafka/topic-reader.js';
import { committedLag, createTopics } from '../../streaming/kafka/topics.js';
import { applyReplacements, codeBlocks, nextclickArgv, shellCommands, type CodeBlock, type ShellCommand } from './readme-blocks.js';
import { writeFixture } from './fixtures.js';
import { captureIo } from '../helpers/capture-io.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const README_BROKER = '127.0.0.1:9092';
const TOPIC_FLAGS = ['--topic', '--input-topic', '--output-topic', '--dlq-topic'];
/** Ceiling for one block (demo, tiny trainings) and for a stream to drain; generous for a busy 2-core machine. */
const BLOCK_TIMEOUT_MS = 900_000;
const DRAIN_TIMEOUT_MS = 300_000;

const blocks = codeBlocks(readFileSync(README, 'utf8'));
const brokers = inject('kafkaBrokers');
const kafkaSkipReason = inject('kafkaSkipReason');
const runId = randomUUID().slice(0, 8);

const commandModules = commands;

/** Fails with the README line if a nextclick command names an unknown command or flag. */
async function checkFlags(argv: string[], block: CodeBlock): Promise<void> {
  const [name, ...rest] = argv;
  const load = commandModules[name ?? ''];
  expect(load, `README.md line ${block.line}: unknown command "nextclick ${name}"`).toBeDefined();
  const { options, positionals } = (await load!()).command;
  expect(() => parseArgs({ args: rest, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true, allowPositionals: positionals === true }),
    `README.md line ${block.line}: ${argv.join(' ')}`).not.toThrow();
}

const usesKafka = (argv: string[]) => argv[0] === 'stream' || argv[0] === 'replay';

/** Broker address and per-run topic names. */
function localise(argv: string[]): string[] {
  const out = argv.map((a) => a.split(README_BROKER).join(brokers));
  for (let i = 0; i < out.length - 1; i++) if (TOPIC_FLAGS.includes(out[i]!)) out[i + 1] = `${out[i + 1]}-${runId}`;
  return out;
}

function flag(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function runNextclick(argv: string[], env: Record<string, string>, where: string): Promise<void> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const c = captureIo();
    const rc = await main(argv, c.io);
    expect(rc, `${where}: nextclick ${argv.join(' ')} exited ${rc}\n${c.text().stderr}`).toBe(0);
    if (argv.includes('--json')) expect(() => JSON.parse(c.text().stdout), `${where}: --json output is not JSON: ${c.text().stdout.slice(0, 300)}`).not.toThrow();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

/** Runs a README TypeScript block with its 'nextclick' imports bound to the project's entry point. */
async function runTypeScript(block: CodeBlock): Promise<void> {
  const where = `README.md line ${block.line}`;
  const imported: string[] = [];
  const body = applyReplacements(block).replace(/^import\s*\{([^}]*)\}\s*from\s*'nextclick';?[ \t]*$/gm, (_, names: string) => {
    imported.push(...names.split(',').map((n) => n.trim()).filter((n) => n !== ''));
    return '';
  });
  expect(/^\s*import\s/m.test(body), `${where}: only named imports from 'nextclick' can run here`).toBe(false);
  const esbuild = await import('esbuild');
  const js = (await esbuild.transform(body, { loader: 'ts', target: 'node20' })).code;
  // esbuild keeps a service process alive otherwise.
  await esbuild.stop();
  const api = (await import('../../index.js')) as unknown as Record<string, unknown>;
  for (const name of imported) expect(api[name], `${where}: 'nextclick' exports no ${name}`).toBeDefined();
  const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<unknown>;
  await new AsyncFunction(...imported, js)(...imported.map((n) => api[n]));
}

interface Background {
  argv: string[];
  where: string;
  running: Promise<number>;
  err: () => string;
}

/** Waits until the stream's group has consumed its input topic, stops it, and checks what it wrote. */
async function stopStream(bg: Background): Promise<void> {
  const brokerList = brokers.split(',');
  const input = flag(bg.argv, '--input-topic')!;
  const output = flag(bg.argv, '--output-topic')!;
  const dlq = flag(bg.argv, '--dlq-topic') ?? `${input}.dlq`;
  const group = flag(bg.argv, '--group') ?? `nextclick-${input}`;
  const inputs = (await readTopic(brokerList, input, { isolation: 'read_uncommitted' })).length;
  expect(inputs, `${bg.where}: nothing was replayed into ${input}`).toBeGreaterThan(0);
  // Event-driven wait with a generous ceiling: poll the committed lag, never assert on elapsed time.
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let lag = -1;
  while (Date.now() < deadline) {
    lag = await committedLag(brokerList, group, input).catch(() => -1);
    if (lag === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  process.emit('SIGTERM', 'SIGTERM');
  const rc = await bg.running;
  expect(lag, `${bg.where}: the stream did not consume ${input} (lag ${lag})\n${bg.err()}`).toBe(0);
  expect(rc, `${bg.where}: nextclick ${bg.argv.join(' ')} exited ${rc}\n${bg.err()}`).toBe(0);
  const outputs = await readTopic(brokerList, output);
  expect(outputs.length, `${bg.where}: recommendations in ${output} for ${inputs} events`).toBeGreaterThanOrEqual(inputs);
  expect((await readTopic(brokerList, dlq)).length, `${bg.where}: dead letters in ${dlq}`).toBe(0);
}

describe('README.md shell blocks', () => {
  const cwd = process.cwd();
  let dir = '';
  let topicsCreated = false;
  let background: Background | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nextclick-readme-'));
    process.chdir(dir);
  });
  afterAll(async () => {
    if (background) {
      process.emit('SIGTERM', 'SIGTERM');
      await background.running.catch(() => undefined);
    }
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('has shell blocks, all of them parseable', () => {
    expect(blocks.filter((b) => b.lang === 'shell').length).toBeGreaterThan(5);
    for (const b of blocks) if (b.lang === 'shell') expect(() => shellCommands(applyReplacements(b)), `README.md line ${b.line}`).not.toThrow();
  });

  for (const block of blocks) {
    if (block.lang === 'ts') {
      const title = `line ${block.line}: TypeScript`;
      if (block.directives.skipBlock !== undefined) it.skip(`${title} — not run: ${block.directives.skipBlock}`, () => {});
      else it(title, () => runTypeScript(block), BLOCK_TIMEOUT_MS);
      continue;
    }
    const text = applyReplacements(block);
    const commands = shellCommands(text);
    const first = commands[0]?.source ?? '';
    const title = `line ${block.line}: ${first.slice(0, 90)}${commands.length > 1 ? ` (+${commands.length - 1})` : ''}`;
    const runnable = (c: ShellCommand) => !block.directives.skipPrefixes.some((s) => c.source.startsWith(s.prefix));
    const needsKafka = commands.some((c) => usesKafka(nextclickArgv(c) ?? []));

    if (block.directives.skipBlock !== undefined) {
      it(`${title} — not run: ${block.directives.skipBlock}; flags checked`, async () => {
        for (const c of commands) {
          const argv = nextclickArgv(c);
          if (argv) await checkFlags(argv, block);
        }
      });
      continue;
    }

    it.skipIf(needsKafka && brokers === '')(`${title}${needsKafka && brokers === '' ? ` — Kafka unavailable: ${kafkaSkipReason}` : ''}`, async () => {
      for (const name of block.directives.fixtures) writeFixture(dir, name);
      const where = `README.md line ${block.line}`;
      let started: Background | undefined;
      for (const c of commands) {
        const argv = nextclickArgv(c);
        if (!runnable(c)) {
          if (argv) await checkFlags(argv, block);
          continue;
        }
        expect(argv, `${where}: "${c.source}" is not a nextclick command; mark it with <!-- readme-test: skip "${c.words[0]}" (reason) -->`).toBeDefined();
        await checkFlags(argv!, block);
        const local = usesKafka(argv!) ? localise(argv!) : argv!;
        if (usesKafka(argv!) && !topicsCreated) {
          // The README tells users to create the topics; the test does it for every topic the README names.
          const names = new Set<string>();
          for (const b of blocks.filter((x) => x.lang === 'shell')) for (const k of shellCommands(applyReplacements(b))) {
            const a = nextclickArgv(k);
            if (a && usesKafka(a)) for (const f of TOPIC_FLAGS) if (flag(a, f)) names.add(`${flag(a, f)}-${runId}`);
          }
          await createTopics(brokers.split(','), [...names].map((topic) => ({ topic, partitions: 3 })));
          topicsCreated = true;
        }
        if (block.directives.background !== undefined) {
          expect(argv![0], `${where}: only "nextclick stream" can run in the background`).toBe('stream');
          expect(started, `${where}: one background command per block`).toBeUndefined();
          const cap = captureIo();
          started = { argv: local, where, running: main(local, cap.io), err: () => cap.text().stderr };
        } else {
          await runNextclick(local, c.env, where);
        }
      }
      const previous = background;
      background = started;
      if (previous) {
        background = undefined;
        await stopStream(previous);
      }
    }, BLOCK_TIMEOUT_MS);
  }

  it('leaves no background command running', () => {
    expect(background?.where, 'a background block must be followed by a block it runs beside').toBeUndefined();
  });
});
