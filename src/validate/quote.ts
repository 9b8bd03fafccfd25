// Text from an object, quoted for a message: escaped (a newline, a NUL or a
// quote in a hostile value cannot break a log line, an Event or the sentence
// it sits in) and bounded (a 256 KiB annotation does not become a 256 KiB
// log line). Two spellings: JSON's, for our own messages, and Go's %q, for
// messages that say what the Kubernetes API server would say.

/** The most characters of a value a message shows. */
export const QUOTE_MAX = 200;

function cut(text: string, max: number): { shown: string; more: number } {
  if (text.length <= max) return { shown: text, more: 0 };
  return { shown: text.slice(0, max), more: text.length - max };
}

function rest(more: number): string {
  return more > 0 ? `…(${more} more characters)` : '';
}

/** `"text"` with JSON's escapes, cut after `max` characters. */
export function quoted(text: string, max = QUOTE_MAX): string {
  const { shown, more } = cut(text, max);
  return `${JSON.stringify(shown)}${rest(more)}`;
}

const GO_ESCAPES: Readonly<Record<string, string>> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u000b': '\\v',
  '\\': '\\\\',
  '"': '\\"',
};

// Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const NOT_PRINTABLE = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u;

/** `"text"` as Go's %q writes it (the API server's messages), cut after `max` characters. */
export function goQuoted(text: string, max = QUOTE_MAX): string {
  const { shown, more } = cut(text, max);
  let out = '"';
  for (const ch of shown) {
    const escape = GO_ESCAPES[ch];
    if (escape !== undefined) {
      out += escape;
      continue;
    }
    if (!NOT_PRINTABLE.test(ch)) {
      out += ch;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"${rest(more)}`;
}
