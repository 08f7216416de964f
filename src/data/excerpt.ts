/**
 * A short printable excerpt of input text for error messages and bad-line samples: control characters,
 * undecodable bytes (U+FFFD) and other non-printable characters are escaped (`\x00`, `\ufffd`), and the
 * result is cut to `max` characters with `…`, so a binary file never floods a terminal or a log. Text that
 * {@link looksBinary} keeps only printable ASCII (bytes that happen to decode as letters are escaped too).
 */
export function printableExcerpt(text: string, max = 40): string {
  const asciiOnly = looksBinary(text);
  let out = '';
  let shown = 0;
  for (const ch of text) {
    if (shown >= max) return `${out}…`;
    out += asciiOnly && ch.charCodeAt(0) > 0x7e ? escapeChar(ch, true) : escapeChar(ch);
    shown++;
  }
  return out;
}

/** Whether a line looks like binary data rather than text: NUL bytes or many undecodable or control characters. */
export function looksBinary(text: string): boolean {
  const sample = text.slice(0, 512);
  if (sample.includes('\0')) return true;
  let odd = 0;
  for (const ch of sample) if (!isPrintable(ch) && ch !== '\t') odd++;
  return sample.length > 0 && odd / sample.length > 0.1;
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u;

function isPrintable(ch: string): boolean {
  return ch !== '\ufffd' && PRINTABLE.test(ch);
}

function escapeChar(ch: string, force = false): string {
  if (!force && isPrintable(ch)) return ch;
  const cp = ch.codePointAt(0)!;
  if (ch === '\t') return '\\t';
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (cp < 0x100) return `\\x${cp.toString(16).padStart(2, '0')}`;
  return cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\u{${cp.toString(16)}}`;
}
