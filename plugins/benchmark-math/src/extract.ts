// Finding the final answer in free text: `\boxed{...}` (nested braces), GSM8K's `#### N`, "the answer is X",
// and the last number. Semantics follow the reference graders (Hendrycks et al.'s MATH `last_boxed_only_string`,
// OpenAI's GSM8K `####` convention, the "The final answer is $X$" format of Minerva-style prompts); the code
// is this project's own.

import { readBraceGroup } from './tex';
import { canonicalNumber, normalizeTex } from './normalize';

/** A number as written in prose: optional minus, thousands commas, decimals (`1,234.5`, `-3`, `.75`). */
const numberPattern = /(?<![\w.\\])-?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|(?<![\w.\\])-?\.\d+/g;

/**
 * The contents of the last `\boxed{...}` (or `\fbox{...}`) in the text, braces matched to any depth; the
 * `\boxed 5` form (no braces) takes what follows up to a `$` or the end of the line. Undefined when none.
 */
export function lastBoxed(text: string): string | undefined {
  const pattern = /\\(?:boxed|fbox)\b/g;
  let found: string | undefined;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    let index = match.index + match[0].length;
    while (text[index] === ' ' && text[index + 1] === ' ') index++;
    if (text[index] === '{') {
      const group = readBraceGroup(text, index);
      if (group) found = group.content;
    } else if (text[index] === ' ') {
      const rest = text.slice(index + 1).split(/[$\n]/)[0]!.trim();
      if (rest !== '') found = rest;
    }
  }
  return found;
}

/** The text after the last `####` up to the end of its line (GSM8K's final-answer marker). */
export function afterHashes(text: string): string | undefined {
  const index = text.lastIndexOf('####');
  if (index < 0) return undefined;
  const rest = text.slice(index + 4).split('\n')[0]!.trim();
  return rest === '' ? undefined : rest;
}

/**
 * What follows the last "the answer is" / "final answer:" / "answer:" in the text, cut at the end of its line
 * or sentence; `$...$` math inside it is preferred ("The final answer is $\frac{1}{2}$. I hope it is correct.").
 */
export function afterAnswerPhrase(text: string): string | undefined {
  const pattern = /\banswer(?:\s+is\s*:|\s+is|\s*:)\s*/gi;
  let last: RegExpExecArray | undefined;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) last = match;
  if (!last) return undefined;
  let rest = text.slice(last.index + last[0].length).split('\n')[0]!;
  const math = /\$\$?([^$]+)\$\$?|\\\((.+?)\\\)|\\\[(.+?)\\\]/.exec(rest);
  if (math && rest.slice(0, math.index).trim() === '') return (math[1] ?? math[2] ?? math[3])!.trim();
  // Cut at the end of a sentence: a full stop followed by a space or the end, not a decimal point.
  const stop = /\.(?:\s|$)/.exec(rest);
  if (stop) rest = rest.slice(0, stop.index);
  rest = rest.trim();
  return rest === '' ? undefined : rest;
}

/** Every number written in the text, in order, as written (commas kept). */
export function numbersIn(text: string): string[] {
  return [...text.matchAll(numberPattern)].map((match) => match[0]);
}

/** The last number written in the text, or undefined. */
export function lastNumber(text: string): string | undefined {
  const numbers = numbersIn(text);
  return numbers[numbers.length - 1];
}

export type ExtractionMethod = 'boxed' | 'hashes' | 'answer-phrase' | 'last-number';

export interface ExtractedAnswer {
  answer: string;
  method: ExtractionMethod;
}

/**
 * The final answer of a free-text solution, trying in order: `\boxed{}`, `####`, "the answer is", the last
 * number. With `numeric` (GSM8K), a marked fragment must hold a number and the first number in it is the
 * answer ("#### $1,200 in total" gives "1,200"), or the fragment itself when it is a fraction or a root; a
 * fragment without a number falls through to the next method.
 */
export function extractFinalAnswer(text: string, options: { numeric?: boolean } = {}): ExtractedAnswer | undefined {
  const candidates: [ExtractionMethod, string | undefined][] = [
    ['boxed', lastBoxed(text)],
    ['hashes', afterHashes(text)],
    ['answer-phrase', afterAnswerPhrase(text)],
  ];
  for (const [method, fragment] of candidates) {
    if (fragment === undefined) continue;
    if (!options.numeric) return { answer: fragment, method };
    // The whole fragment as a number ("$1,200", "18 dollars", "25%"); else the first number in it, unless the
    // fragment starts with a fraction or root (not the number its first digits spell).
    const normalised = normalizeTex(fragment);
    const whole = canonicalNumber(normalised);
    if (whole !== undefined) return { answer: whole, method };
    if (/^-?(?:\\(?:frac|sqrt)|\d+(?:\.\d+)?\/)/.test(normalised)) return { answer: normalised, method };
    const number = numbersIn(fragment)[0];
    if (number !== undefined) return { answer: number, method };
  }
  const number = lastNumber(text);
  return number === undefined ? undefined : { answer: number, method: 'last-number' };
}
