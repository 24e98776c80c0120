// Answer normalisation before exact match. The steps follow the published reference normalisers (Hendrycks et
// al.'s MATH `strip_string`/`is_equiv`, with the unit and `\text{}` handling of Lewkowycz et al.'s Minerva
// `normalize_final_answer`), written anew here; where this code goes further it says so in the comment and in
// the README ("Semantics").
import { readBraceGroup } from './tex';

/**
 * A plain decimal number in canonical form, or undefined when `text` is not one: thousands commas dropped
 * (`1,234` only, groups of three), a leading `+` and leading zeros dropped, trailing zeros after the point
 * and a bare trailing point dropped (`5.0` and `5.` are `5`, `0.50` is `0.5`), `-0` is `0`.
 */
export function canonicalNumber(text: string): string | undefined {
  const match = /^([+-]?)(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d*))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, sign, integerPart = '', fractionPart = ''] = match;
  if (integerPart === '' && fractionPart === '') return undefined;
  const integer = integerPart.replace(/,/g, '').replace(/^0+(?=\d)/, '') || '0';
  const fraction = fractionPart.replace(/0+$/, '');
  const body = fraction === '' ? integer : `${integer}.${fraction}`;
  return sign === '-' && /[1-9]/.test(body) ? `-${body}` : body;
}

/** Replaces every `\name{...}` (braces matched to any depth) by what `replace` makes of its contents. */
function mapCommandGroups(text: string, names: readonly string[], replace: (content: string) => string): string {
  const pattern = new RegExp(`\\\\(?:${names.join('|')})\\s*\\{`, 'g');
  let result = '';
  let from = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const open = match.index + match[0].length - 1;
    const group = readBraceGroup(text, open);
    if (!group) break;
    result += text.slice(from, match.index) + replace(group.content);
    from = group.end;
    pattern.lastIndex = group.end;
  }
  return result + text.slice(from);
}

const textCommands = ['text', 'textbf', 'textit', 'textrm', 'mathrm', 'mathbf', 'mbox'];

/** Strips delimiters that wrap the whole answer: `$...$`, `$$...$$`, `\(...\)`, `\[...\]`, `\boxed{...}`. */
function unwrap(text: string): string {
  for (;;) {
    const value = text.trim();
    let inner: string | undefined;
    const boxed = /^\\(?:boxed|fbox)\s*\{/.exec(value);
    if (boxed) {
      const group = readBraceGroup(value, boxed[0].length - 1);
      if (group && group.end === value.length) inner = group.content;
    } else if (/^\$\$[^]*\$\$$/.test(value) && value.length > 4) inner = value.slice(2, -2);
    else if (/^\$[^$]*\$$/.test(value) && value.length > 2) inner = value.slice(1, -1);
    else if (/^\\\([^]*\\\)$/.test(value) || /^\\\[[^]*\\\]$/.test(value)) inner = value.slice(2, -2);
    if (inner === undefined) return value;
    text = inner;
  }
}

/** Reads one TeX argument at `index`: a brace group, a control sequence (`\pi`), or one character. */
function readArgument(text: string, index: number): { content: string; end: number } | undefined {
  if (index >= text.length) return undefined;
  if (text[index] === '{') return readBraceGroup(text, index);
  if (text[index] === '\\') {
    const command = /^\\(?:[A-Za-z]+|.)/.exec(text.slice(index))!;
    return { content: command[0], end: index + command[0].length };
  }
  return { content: text[index]!, end: index + 1 };
}

/**
 * `\frac` with both arguments braced: `\frac12` -> `\frac{1}{2}`, `\frac1{72}` and `\frac{72}1` too (the
 * reference fixes the first two; TeX reads all three the same way), recursively inside the arguments.
 */
export function fixFractions(text: string): string {
  let result = '';
  let index = 0;
  for (;;) {
    const at = text.indexOf('\\frac', index);
    if (at < 0 || /[A-Za-z]/.test(text[at + 5] ?? '')) {
      if (at < 0) return result + text.slice(index);
      result += text.slice(index, at + 5);
      index = at + 5;
      continue;
    }
    const numerator = readArgument(text, at + 5);
    const denominator = numerator && readArgument(text, numerator.end);
    if (!numerator || !denominator) return result + text.slice(index);
    result += `${text.slice(index, at)}\\frac{${fixFractions(numerator.content)}}{${fixFractions(denominator.content)}}`;
    index = denominator.end;
  }
}

/** `\sqrt3` -> `\sqrt{3}`, `\sqrt x` -> `\sqrt{x}` (one character, as TeX reads it); `\sqrt{..}`, `\sqrt[n]` stay. */
export function fixSquareRoots(text: string): string {
  return text
    .replace(/\\sqrt\s*(\\[A-Za-z]+)/g, '\\sqrt{$1}')
    .replace(/\\sqrt\s*([^\s{[\\])/g, '\\sqrt{$1}');
}

/** Drops units written after a number: `\text{ cm}` and the rest (the reference's rule), `\text{cm}^2` at the end, and plain words (`5 square feet`). */
function removeUnits(text: string): string {
  let value = text;
  // Reference: "\text{ " (with a space) only ever introduces units on the right.
  const spaced = /\\(?:text|mbox)\{\s/.exec(value);
  if (spaced && /[\d}]\s*$/.test(value.slice(0, spaced.index))) value = value.slice(0, spaced.index);
  // A trailing \text{...} / \mathrm{...} after a number or a group is a unit too ("5\text{cm}", "3\mathrm{m}^2").
  for (;;) {
    const trailing = /^([^]*[\d}])\s*\\(?:text|mbox|mathrm)\{[A-Za-z .]*\}(?:\^\{?\d\}?)?\s*$/.exec(value);
    if (!trailing) break;
    value = trailing[1]!;
  }
  // Plain trailing words of two letters or more after a number ("18 dollars", "12 square feet", "3 cm^2").
  const words = /^([^]*[\d})\]])(?:\s+[A-Za-z]{2,}(?:\^\{?\d\}?)?\.?)+$/.exec(value);
  if (words && /\d/.test(words[1]!)) value = words[1]!;
  return value;
}

/** "x = 5" -> "5" when the left side is a single variable (the reference: one `=`, at most two characters before it). */
function dropAssignment(text: string): string {
  const parts = text.split('=');
  if (parts.length !== 2) return text;
  const left = parts[0]!.trim();
  if (left.length <= 2 || /^\\?[A-Za-z]+(?:_\{?\w+\}?)?$/.test(left)) return parts[1]!;
  return text;
}

/**
 * The normalised form of a MATH answer; two answers are equivalent when their normalised forms are equal.
 *
 * As in the reference: line breaks, `\!`, `\left`/`\right`, `^\circ`, `\$`, `\%` and units after `\text{ `
 * go; `\dfrac`/`\tfrac` become `\frac`; `\frac12` and `\sqrt3` get their braces; a leading `.5` becomes `0.5`;
 * "k = 5" becomes "5"; spaces go; `0.5` becomes `\frac{1}{2}` (the one decimal the reference turns into a
 * fraction: `0.75` does not equal `\frac{3}{4}`); an integer `a/b` becomes `\frac{a}{b}`.
 * Beyond it: the other TeX spaces (`\,` `\;` `\:` `\ ` `~`), bare `$` and `%`, `\text{}`-style wrappers kept
 * by their contents, units written as `\text{cm}` or plain words after a number, thousands commas (`1,000` and
 * `1{,}000`), a trailing full stop, canonical decimals (`5.0` = `5`, `+3` = `3`, `007` = `7`), and
 * `\frac{-1}{2}` = `-\frac{1}{2}`.
 */
export function normalizeMathAnswer(answer: string): string {
  let value = normalizeTex(answer);
  if (value === '0.5') value = '\\frac{1}{2}';
  else if (value === '-0.5') value = '-\\frac{1}{2}';
  const slash = /^(-?)(\d+)\/(\d+)$/.exec(value);
  if (slash && !/^0\d/.test(slash[2]!) && !/^0\d/.test(slash[3]!)) value = `${slash[1]}\\frac{${slash[2]}}{${slash[3]}}`;
  return value.replace(/^\\frac\{-([^{}]+)\}\{([^{}]+)\}$/, '-\\frac{$1}{$2}');
}

/** Every step of `normalizeMathAnswer` but its last (decimals and `a/b` into `\frac`): a plain number stays a canonical decimal. */
export function normalizeTex(answer: string): string {
  let value = answer.replace(/\r?\n/g, ' ');
  value = unwrap(value);
  value = value.replace(/\\!/g, '');
  // TeX spaces (not the second backslash of a `\\` line break, as in a matrix's rows).
  value = value.replace(/(?<!\\)\\[,;:]/g, '').replace(/(?<!\\)\\ /g, ' ').replace(/~/g, ' ');
  value = value.replace(/\\\\/g, '\\');
  value = value.replace(/\\[dt]frac/g, '\\frac');
  value = value.replace(/\\(?:left|right)(?![A-Za-z])/g, '');
  value = value.replace(/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![A-Za-z])|°/g, '');
  value = value.replace(/\\\$/g, '').replace(/\$/g, '');
  value = value.replace(/\{,\}/g, '');
  value = value.trim().replace(/(?<!\.)\.$/, '').trim();
  value = removeUnits(value);
  value = mapCommandGroups(value, textCommands, (content) => content);
  value = value.replace(/\\?%/g, '');
  value = value.trim().replace(/(?<!\.)\.$/, '');
  value = dropAssignment(value);
  value = value.replace(/(^|[\s{(\[,=])\.(\d)/g, '$10.$2');
  value = fixSquareRoots(value);
  value = value.replace(/\s+/g, '');
  value = fixFractions(value);
  return canonicalNumber(value) ?? value;
}

/** Whether two MATH answers are the same after normalisation (the reference's `is_equiv`). */
export function isEquivalentMath(answer: string, reference: string): boolean {
  return normalizeMathAnswer(answer) === normalizeMathAnswer(reference);
}
