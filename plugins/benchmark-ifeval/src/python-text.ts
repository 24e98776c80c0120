// The few pieces of Python's string and `re` behaviour the IFEval reference relies on, written for JavaScript:
// Python's whitespace (str.isspace, `\s` in a str pattern), its word characters (`\w`, `\b`), its decimal digits
// (`\d`), str.strip()/split() without arguments, str.isupper()/islower(), and multiline `^`/`$`, which in Python
// only look at '\n'. JavaScript's `\s`, `\w`, `\b`, `\d`, trim() and the `m` flag differ from these at the edges
// (non-ASCII letters and digits, '\x85', '\x1c'-'\x1f', '\ufeff', '\r'), so the checks build their patterns from
// the classes below instead.

/** The characters for which Python's str.isspace() is true (and which `\s` matches in a str pattern). */
const spaceChars = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** Python's `\s` as a character class body (use inside `[...]`). */
export const pySpaceBody = spaceChars;
/** Python's `\s`. */
export const pySpace = `[${spaceChars}]`;
/** Python's `\S`. */
export const pyNonSpace = `[^${spaceChars}]`;
/** Python's `\w` for str patterns: letters, numbers (Nd, Nl, No) and the underscore. */
export const pyWord = '[\\p{L}\\p{N}_]';
/** Python's `\W`. */
export const pyNonWord = '[^\\p{L}\\p{N}_]';
/** Python's `\d` for str patterns: any decimal digit. */
export const pyDigit = '\\p{Nd}';
/** Python's `\b`: a boundary between a word character and a non-word character (or an end of the text). */
export const pyBoundary = `(?:(?<=${pyWord})(?!${pyWord})|(?<!${pyWord})(?=${pyWord}))`;
/** Python's `^` under re.MULTILINE: the start of the text or just after a '\n'. */
export const pyLineStart = '(?<![^\\n])';
/** Python's `$` under re.MULTILINE: the end of the text or just before a '\n'. */
export const pyLineEnd = '(?=\\n|$)';
/** Python's `.` (without re.DOTALL): anything but '\n'. */
export const pyAny = '[^\\n]';

const spaceSet = new RegExp(`^${pySpace}$`, 'u');
const leadingSpace = new RegExp(`^${pySpace}+`, 'u');
const trailingSpace = new RegExp(`${pySpace}+$`, 'u');
const spaceRun = new RegExp(`${pySpace}+`, 'u');

/** Whether one character is whitespace to Python. */
export function isPySpace(char: string): boolean {
  return spaceSet.test(char);
}

/** Python's str.strip() with no argument. */
export function pyStrip(text: string): string {
  return text.replace(leadingSpace, '').replace(trailingSpace, '');
}

/** Python's str.rstrip() with no argument. */
export function pyRstrip(text: string): string {
  return text.replace(trailingSpace, '');
}

/** Python's str.split() with no argument: runs of whitespace separate, empty strings are dropped. */
export function pySplit(text: string): string[] {
  return pyStrip(text).split(spaceRun).filter((part) => part !== '');
}

/** Python's str.strip(chars), str.lstrip(chars), str.rstrip(chars) with a set of characters. */
export function stripChars(text: string, chars: string, side: 'both' | 'left' | 'right' = 'both'): string {
  const set = new Set(chars);
  const code = [...text];
  let start = 0;
  let end = code.length;
  if (side !== 'right') while (start < end && set.has(code[start]!)) start++;
  if (side !== 'left') while (end > start && set.has(code[end - 1]!)) end--;
  return code.slice(start, end).join('');
}

const lowerOrTitle = /[\p{Lowercase}\p{Lt}]/u;
const upperOrTitle = /[\p{Uppercase}\p{Lt}]/u;
const upper = /\p{Uppercase}/u;
const lower = /\p{Lowercase}/u;

/** Python's str.isupper(): at least one cased character, and no lower-case or title-case one. */
export function pyIsUpper(text: string): boolean {
  return upper.test(text) && !lowerOrTitle.test(text);
}

/** Python's str.islower(): at least one cased character, and no upper-case or title-case one. */
export function pyIsLower(text: string): boolean {
  return lower.test(text) && !upperOrTitle.test(text);
}

/** The first code point of a string ('' for an empty one). */
export function firstChar(text: string): string {
  const code = text.codePointAt(0);
  return code === undefined ? '' : String.fromCodePoint(code);
}

/** The number of code points, as Python's len() counts a str. */
export function pyLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** A string matched literally inside a RegExp. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** How many non-overlapping matches `pattern` (which must have the g flag) has in `text`, as re.findall counts. */
export function countMatches(pattern: RegExp, text: string): number {
  let count = 0;
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    count++;
    if (match[0] === '') pattern.lastIndex += 1;
  }
  return count;
}
