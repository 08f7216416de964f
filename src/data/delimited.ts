/**
 * Splitting and joining of one delimited line (CSV/TSV), RFC 4180 style: a field that starts with `"` is
 * quoted, `""` inside it is a literal quote. Records spanning several lines are not supported (no click log
 * needs them, and it keeps line numbers exact). Throws a plain Error with the reason; callers add file:line.
 */
export function splitDelimited(line: string, delimiter: string): string[] {
  // Fast path: the common unquoted line.
  if (line.indexOf('"') < 0) return line.split(delimiter);
  const out: string[] = [];
  const d = delimiter;
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) throw new Error('unterminated quoted field');
        value += line.slice(j, q);
        if (line.charCodeAt(q + 1) === 34) {
          value += '"';
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(value);
      if (i === n) return out;
      if (!line.startsWith(d, i)) throw new Error(`unexpected character after closing quote at column ${i + 1}`);
      i += d.length;
      if (i === n) {
        out.push('');
        return out;
      }
    } else {
      const next = line.indexOf(d, i);
      if (next < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, next));
      i = next + d.length;
      if (i === n) {
        out.push('');
        return out;
      }
    }
  }
}

/** Joins fields into one delimited line, quoting only the fields that need it. Fields must not contain newlines. */
export function joinDelimited(fields: readonly string[], delimiter: string): string {
  return fields
    .map((f) => (f.includes(delimiter) || f.startsWith('"') ? `"${f.replaceAll('"', '""')}"` : f))
    .join(delimiter);
}
