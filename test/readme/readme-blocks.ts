// Reads the shell and TypeScript blocks of README.md and the `readme-test` markers before them (used by
// readme-commands.kafka.test.ts).
//
// Marker convention: zero or more one-line HTML comments directly above a ```bash, ```sh or ```ts fence, one
// directive each:
//   <!-- readme-test: skip (REASON) -->                    the block is not run; its nextclick flags are still checked
//   <!-- readme-test: skip "PREFIX" (REASON) -->           commands starting with PREFIX are not run (e.g. "npm ci")
//   <!-- readme-test: replace "A" with "B" -->             text substitution before running; A must occur in the block
//   <!-- readme-test: fixture NAME (DESCRIPTION) -->       the test writes input file NAME (it must know how) first
//   <!-- readme-test: background (REASON) -->              a `nextclick stream` command left running beside the next block
// A REASON is required. Commands the test cannot run (anything but `npx nextclick ...` / `nextclick ...`) must be
// skipped explicitly, so a new kind of command cannot slip through untested.

export interface Directives {
  skipBlock?: string;
  skipPrefixes: { prefix: string; reason: string }[];
  replacements: { from: string; to: string }[];
  fixtures: string[];
  background?: string;
}

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  lang: 'shell' | 'ts';
  text: string;
  directives: Directives;
}

export interface ShellCommand {
  /** `NAME=value` assignments before the program. */
  env: Record<string, string>;
  /** The words, program first. */
  words: string[];
  /** The command as written (after replacements), for messages. */
  source: string;
}

const MARKER = /^<!--\s*readme-test:\s*(.*?)\s*-->\s*$/;

function parseDirective(body: string, into: Directives, where: string): void {
  let m: RegExpMatchArray | null;
  if ((m = body.match(/^skip\s+"([^"]+)"\s+\((.+)\)$/))) into.skipPrefixes.push({ prefix: m[1]!, reason: m[2]! });
  else if ((m = body.match(/^skip\s+\((.+)\)$/))) into.skipBlock = m[1]!;
  else if ((m = body.match(/^replace\s+"([^"]+)"\s+with\s+"([^"]*)"$/))) into.replacements.push({ from: m[1]!, to: m[2]! });
  else if ((m = body.match(/^fixture\s+(\S+)\s+\((.+)\)$/))) into.fixtures.push(m[1]!);
  else if ((m = body.match(/^background\s+\((.+)\)$/))) into.background = m[1]!;
  else throw new Error(`${where}: unknown readme-test directive "${body}" (see test/readme/readme-blocks.ts for the forms)`);
}

/** Every ```bash / ```sh / ```ts block of a markdown text, with the markers directly above it. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  const used = new Set<number>();
  let i = 0;
  while (i < lines.length) {
    const fence = lines[i]!.match(/^(`{3,}|~{3,})\s*(\S*)/);
    if (!fence) { i++; continue; }
    const close = fence[1]!;
    const lang = fence[2]!;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith(close)) end++;
    const kind = lang === 'bash' || lang === 'sh' || lang === 'shell' ? 'shell' : lang === 'ts' || lang === 'typescript' ? 'ts' : undefined;
    if (kind) {
      const directives: Directives = { skipPrefixes: [], replacements: [], fixtures: [] };
      const markers: string[] = [];
      for (let j = i - 1; j >= 0 && MARKER.test(lines[j]!); j--) {
        markers.unshift(lines[j]!.match(MARKER)![1]!);
        used.add(j);
      }
      for (const body of markers) parseDirective(body, directives, `README.md line ${i + 1}`);
      blocks.push({ line: i + 1, lang: kind, text: lines.slice(i + 1, end).join('\n'), directives });
    }
    i = end + 1;
  }
  // A marker that is not directly above a shell block would silently do nothing.
  lines.forEach((l, j) => {
    if (/<!--\s*readme-test/.test(l) && !used.has(j)) throw new Error(`README.md line ${j + 1}: readme-test marker not directly above a bash, sh or ts block`);
  });
  return blocks;
}

/** Applies the block's replacements; each must match, so a stale marker fails the test. */
export function applyReplacements(block: CodeBlock): string {
  let text = block.text;
  for (const { from, to } of block.directives.replacements) {
    if (!text.includes(from)) throw new Error(`README.md line ${block.line}: readme-test replace "${from}" matches nothing in the block`);
    text = text.split(from).join(to);
  }
  return text;
}

/** Splits a line into words: single and double quotes, backslash escapes; no expansions. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += c;
    } else if (c === '"' || c === "'") { quote = c; inWord = true; }
    else if (c === '\\' && i + 1 < line.length) { word += line[++i]; inWord = true; }
    else if (/\s/.test(c)) { if (inWord) words.push(word); word = ''; inWord = false; }
    else { word += c; inWord = true; }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/**
 * The commands of a block: joins `\` continuations, drops comments, splits `&&`. Anything more (pipes,
 * redirections, `;`, `$VAR`) is refused, so the README stays copy-pasteable and this test stays honest.
 */
export function shellCommands(text: string): ShellCommand[] {
  const joined = text.replace(/\\\n/g, ' ');
  const commands: ShellCommand[] = [];
  for (const rawLine of joined.split('\n')) {
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    for (const part of line.split('&&').map((p) => p.trim())) {
      if (/[|;<>$`]/.test(part)) throw new Error(`README command uses shell syntax this test does not run: ${part}`);
      const words = shellWords(part);
      const env: Record<string, string> = {};
      while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
        const [k, ...v] = words.shift()!.split('=');
        env[k!] = v.join('=');
      }
      commands.push({ env, words, source: part });
    }
  }
  return commands;
}

/** The nextclick argv of a command (`npx nextclick X ...` or `nextclick X ...`), or undefined for other programs. */
export function nextclickArgv(command: ShellCommand): string[] | undefined {
  const w = command.words;
  if (w[0] === 'npx' && w[1] === 'nextclick') return w.slice(2);
  if (w[0] === 'nextclick') return w.slice(1);
  return undefined;
}
