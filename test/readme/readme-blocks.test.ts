// The README block reader: markers, replacements and command splitting (the runner is readme-commands.kafka.test.ts).
import { describe, expect, it } from 'vitest';
import { applyReplacements, nextclickArgv, codeBlocks, shellCommands, shellWords } from './readme-blocks.js';

const md = [
  '# t',
  '<!-- readme-test: skip "npm ci" (installs) -->',
  '<!-- readme-test: replace "epochs=5" with "epochs=1" -->',
  '```bash',
  'npm ci && npx nextclick train --model gru4rec \\',
  '  --param epochs=5   # five epochs',
  '```',
  '',
  '<!-- readme-test: skip (needs a GPU) -->',
  '```sh',
  'NEXTCLICK_BACKEND=wasm nextclick demo --json',
  '```',
  '```ts',
  'const x = 1;',
  '```',
].join('\n');

describe('codeBlocks', () => {
  it('reads bash/sh/ts blocks with the markers directly above them', () => {
    const blocks = codeBlocks(md);
    expect(blocks.map((b) => [b.line, b.lang])).toEqual([[4, 'shell'], [10, 'shell'], [13, 'ts']]);
    expect(blocks[0]!.directives.skipPrefixes).toEqual([{ prefix: 'npm ci', reason: 'installs' }]);
    expect(blocks[0]!.directives.replacements).toEqual([{ from: 'epochs=5', to: 'epochs=1' }]);
    expect(blocks[1]!.directives.skipBlock).toBe('needs a GPU');
  });

  it('refuses a marker that is not directly above a shell block', () => {
    expect(() => codeBlocks('<!-- readme-test: skip (gpu) -->\n\n```bash\nnextclick demo\n```')).toThrow(/not directly above/);
    expect(() => codeBlocks('<!-- readme-test: skip (gpu) -->\n```json\n{}\n```')).toThrow(/not directly above/);
  });

  it('refuses unknown directives and markers without a reason', () => {
    expect(() => codeBlocks('<!-- readme-test: run twice -->\n```bash\nnextclick demo\n```')).toThrow(/unknown readme-test directive/);
    expect(() => codeBlocks('<!-- readme-test: skip -->\n```bash\nnextclick demo\n```')).toThrow(/unknown readme-test directive/);
  });

  it('fails on a replacement that matches nothing', () => {
    const [block] = codeBlocks('<!-- readme-test: replace "--speed 10" with "--speed 0" -->\n```bash\nnextclick replay --speed 5\n```');
    expect(() => applyReplacements(block!)).toThrow(/matches nothing/);
  });
});

describe('shellCommands', () => {
  it('joins continuations, drops comments, splits && and reads env prefixes', () => {
    const [first, second] = codeBlocks(md);
    const cmds = shellCommands(applyReplacements(first!));
    expect(cmds.map((c) => c.words)).toEqual([['npm', 'ci'], ['npx', 'nextclick', 'train', '--model', 'gru4rec', '--param', 'epochs=1']]);
    expect(nextclickArgv(cmds[0]!)).toBeUndefined();
    expect(nextclickArgv(cmds[1]!)).toEqual(['train', '--model', 'gru4rec', '--param', 'epochs=1']);
    const [env] = shellCommands(second!.text);
    expect(env!.env).toEqual({ NEXTCLICK_BACKEND: 'wasm' });
    expect(nextclickArgv(env!)).toEqual(['demo', '--json']);
  });

  it('refuses shell syntax it would not run faithfully', () => {
    expect(() => shellCommands('nextclick demo | head')).toThrow(/shell syntax/);
    expect(() => shellCommands('nextclick demo --out $DIR')).toThrow(/shell syntax/);
  });

  it('splits words with quotes and escapes', () => {
    expect(shellWords(`a "b c" 'd e' f\\ g`)).toEqual(['a', 'b c', 'd e', 'f g']);
    expect(() => shellWords('a "b')).toThrow(/unterminated/);
  });
});
