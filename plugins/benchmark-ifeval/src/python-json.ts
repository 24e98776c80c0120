// Whether Python's json.loads would accept a text: standard JSON plus the constants NaN, Infinity and -Infinity,
// whitespace limited to space, tab, newline and carriage return, no byte-order mark, and nothing after the value.
// JSON.parse refuses the three constants, so the JSON-format instruction uses this instead.

const whitespace = new Set([' ', '\t', '\n', '\r']);
const numberPattern = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;
const maxDepth = 900;

class Reader {
  at = 0;
  constructor(readonly text: string) {}

  skipSpace(): void {
    while (this.at < this.text.length && whitespace.has(this.text[this.at]!)) this.at++;
  }

  literal(word: string): boolean {
    if (!this.text.startsWith(word, this.at)) return false;
    this.at += word.length;
    return true;
  }

  value(depth: number): boolean {
    if (depth > maxDepth) return false;
    const char = this.text[this.at];
    if (char === '{') return this.object(depth);
    if (char === '[') return this.array(depth);
    if (char === '"') return this.string();
    if (this.literal('true') || this.literal('false') || this.literal('null')) return true;
    if (this.literal('NaN') || this.literal('Infinity') || this.literal('-Infinity')) return true;
    numberPattern.lastIndex = this.at;
    const match = numberPattern.exec(this.text);
    if (!match) return false;
    this.at += match[0].length;
    return true;
  }

  string(): boolean {
    this.at++;
    while (this.at < this.text.length) {
      const code = this.text.charCodeAt(this.at);
      if (code === 0x22) {
        this.at++;
        return true;
      }
      if (code < 0x20) return false;
      if (code === 0x5c) {
        const escape = this.text[this.at + 1];
        if (escape === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.at + 2, this.at + 6))) return false;
          this.at += 6;
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) return false;
        this.at += 2;
        continue;
      }
      this.at++;
    }
    return false;
  }

  array(depth: number): boolean {
    this.at++;
    this.skipSpace();
    if (this.literal(']')) return true;
    for (;;) {
      this.skipSpace();
      if (!this.value(depth + 1)) return false;
      this.skipSpace();
      if (this.literal(']')) return true;
      if (!this.literal(',')) return false;
    }
  }

  object(depth: number): boolean {
    this.at++;
    this.skipSpace();
    if (this.literal('}')) return true;
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] !== '"' || !this.string()) return false;
      this.skipSpace();
      if (!this.literal(':')) return false;
      this.skipSpace();
      if (!this.value(depth + 1)) return false;
      this.skipSpace();
      if (this.literal('}')) return true;
      if (!this.literal(',')) return false;
    }
  }
}

/** Whether json.loads(text) succeeds in Python. */
export function isPythonJson(text: string): boolean {
  const reader = new Reader(text);
  reader.skipSpace();
  if (!reader.value(0)) return false;
  reader.skipSpace();
  return reader.at === text.length;
}
