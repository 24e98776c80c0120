// Every instruction of IFEval's public list (the reference's instructions_registry), each with the arguments its
// kwargs carry and a check with the reference implementation's semantics. Arguments are validated once, when the
// file is read (input.ts); a check receives them already normalised the way the reference's build_description
// normalises them (stripped phrases, a lower-cased first word and letter).
import { isInLanguage, ifevalLanguages } from './language';
import { countSentences } from './punkt';
import { isPythonJson } from './python-json';
import {
  countMatches, escapeRegExp, pyAny, pyBoundary, pyDigit, pyIsLower, pyIsUpper, pyLength, pyLineEnd, pyLineStart,
  pySpace, pySplit, pyStrip, pyWord, stripChars,
} from './python-text';
import { wordTokenize } from './word-tokenize';

/** The two comparisons the reference supports: 'less than' is `<`, 'at least' is `>=`. */
export type Relation = 'less than' | 'at least';
export const relations: readonly Relation[] = ['less than', 'at least'];

/** What an argument must be. */
export type ArgumentKind =
  | 'count' // a non-negative integer
  | 'relation' // 'less than' or 'at least'
  | 'phrase' // a string, stripped, not empty once stripped
  | 'word' // a string, stripped and lower-cased, not empty
  | 'words' // a non-empty list of non-empty strings
  | 'letter' // one character, lower-cased
  | 'language' // an ISO 639-1 code of IFEval's language list
  | 'text'; // a non-empty string, kept as it is

export type ArgumentValue = number | string | readonly string[];
export type InstructionArguments = Readonly<Record<string, ArgumentValue>>;

export interface InstructionDefinition {
  readonly id: string;
  /** The arguments the instruction takes, all required. */
  readonly arguments: Readonly<Record<string, ArgumentKind>>;
  /** A constraint across arguments: the name of the offending argument and what is wrong, or undefined. */
  readonly validate?: (args: InstructionArguments) => { argument: string; problem: string } | undefined;
  /** Whether `response` follows the instruction. */
  check(response: string, args: InstructionArguments): boolean | Promise<boolean>;
}

function compare(actual: number, relation: ArgumentValue, threshold: ArgumentValue): boolean {
  return relation === 'less than' ? actual < (threshold as number) : actual >= (threshold as number);
}

// ---- counting helpers, as instructions_util does it ----

const wordPattern = new RegExp(`${pyWord}+`, 'gu');

/** The reference's count_words: runs of word characters (NLTK's RegexpTokenizer(r"\w+")). */
export function countWords(text: string): number {
  return countMatches(wordPattern, text);
}

/** The reference's capital-word count: word_tokenize tokens for which str.isupper() holds. */
export function countCapitalWords(text: string): number {
  return wordTokenize(text).filter(pyIsUpper).length;
}

const placeholderPattern = /\[[^\n]*?\]/gu;
const starBulletPattern = new RegExp(`${pyLineStart}${pySpace}*\\*[^*]${pyAny}*${pyLineEnd}`, 'gu');
const dashBulletPattern = new RegExp(`${pyLineStart}${pySpace}*-${pyAny}*${pyLineEnd}`, 'gu');
const highlightPattern = /\*[^\n*]*\*/gu;
const doubleHighlightPattern = /\*\*[^\n*]*\*\*/gu;
const paragraphDivider = new RegExp(`${pySpace}?\\*\\*\\*${pySpace}?`, 'u');
const titlePattern = /<<[^\n]+>>/gu;
const constrainedOptions = ['My answer is yes.', 'My answer is no.', 'My answer is maybe.'];
const firstWordStops = new Set(['.', ',', '?', '!', "'", '"']);

/** The bullet points the reference counts: lines starting with `*` (not `**`) or `-`. */
export function countBullets(text: string): number {
  return countMatches(starBulletPattern, text) + countMatches(dashBulletPattern, text);
}

/** The highlighted sections the reference counts: non-empty `*...*` and `**...**` on one line. */
export function countHighlights(text: string): number {
  let count = 0;
  for (const [highlight] of text.matchAll(highlightPattern)) if (pyStrip(stripChars(highlight, '*')) !== '') count++;
  for (const [highlight] of text.matchAll(doubleHighlightPattern)) if (pyStrip(highlight.slice(2, -2)) !== '') count++;
  return count;
}

/** The reference's paragraph count for `***` dividers, or undefined when an empty paragraph sits between two. */
export function countDividedParagraphs(text: string): number | undefined {
  const paragraphs = text.split(paragraphDivider);
  let count = paragraphs.length;
  for (const [index, paragraph] of paragraphs.entries()) {
    if (pyStrip(paragraph) !== '') continue;
    if (index === 0 || index === paragraphs.length - 1) count--;
    else return undefined;
  }
  return count;
}

function sectionCount(text: string, splitter: string): number {
  const pattern = new RegExp(`${pySpace}?${escapeRegExp(splitter)}${pySpace}?${pyDigit}+${pySpace}?`, 'u');
  return text.split(pattern).length - 1;
}

function followsNthParagraphFirstWord(text: string, args: InstructionArguments): boolean {
  const paragraphs = text.split('\n\n');
  const count = paragraphs.filter((paragraph) => pyStrip(paragraph) !== '').length;
  const nth = args.nth_paragraph as number;
  if (nth > count) return false;
  const paragraph = pyStrip(paragraphs[nth - 1]!);
  if (paragraph === '') return false;
  let word = stripChars(stripChars(pySplit(paragraph)[0]!, "'", 'left'), '"', 'left');
  let firstWord = '';
  for (const char of word) {
    if (firstWordStops.has(char)) break;
    firstWord += char.toLowerCase();
  }
  word = firstWord;
  return count === args.num_paragraphs && word === args.first_word;
}

function followsTwoResponses(text: string): boolean {
  const parts = text.split('******');
  const valid: string[] = [];
  for (const [index, part] of parts.entries()) {
    if (pyStrip(part) === '') {
      if (index !== 0 && index !== parts.length - 1) return false;
    } else valid.push(part);
  }
  return valid.length === 2 && pyStrip(valid[0]!) !== pyStrip(valid[1]!);
}

function isJsonResponse(text: string): boolean {
  let value = pyStrip(text);
  for (const prefix of ['```json', '```Json', '```JSON', '```']) if (value.startsWith(prefix)) value = value.slice(prefix.length);
  if (value.endsWith('```')) value = value.slice(0, -3);
  return isPythonJson(pyStrip(value));
}

function hasTitle(text: string): boolean {
  for (const [title] of text.matchAll(titlePattern)) {
    if (pyStrip(stripChars(stripChars(title, '<', 'left'), '>', 'right')) !== '') return true;
  }
  return false;
}

function postscriptPattern(marker: string): RegExp {
  if (marker === 'P.P.S') return new RegExp(`p\\.${pySpace}?p\\.${pySpace}?s`, 'u');
  if (marker === 'P.S.') return new RegExp(`p\\.${pySpace}?s\\.`, 'u');
  return new RegExp(escapeRegExp(marker.toLowerCase()), 'u');
}

function letterCount(text: string, letter: string): number {
  let count = 0;
  for (const char of text.toLowerCase()) if (char === letter) count++;
  return count;
}

const definitions: InstructionDefinition[] = [
  {
    id: 'keywords:existence',
    arguments: { keywords: 'words' },
    check: (text, { keywords }) => (keywords as string[]).every((keyword) => new RegExp(escapeRegExp(keyword), 'iu').test(text)),
  },
  {
    id: 'keywords:frequency',
    arguments: { keyword: 'phrase', frequency: 'count', relation: 'relation' },
    check: (text, { keyword, frequency, relation }) =>
      compare(countMatches(new RegExp(escapeRegExp(keyword as string), 'giu'), text), relation!, frequency!),
  },
  {
    id: 'keywords:forbidden_words',
    arguments: { forbidden_words: 'words' },
    check: (text, { forbidden_words: words }) =>
      !(words as string[]).some((word) => new RegExp(`${pyBoundary}${escapeRegExp(word)}${pyBoundary}`, 'iu').test(text)),
  },
  {
    id: 'keywords:letter_frequency',
    arguments: { letter: 'letter', let_frequency: 'count', let_relation: 'relation' },
    check: (text, { letter, let_frequency: frequency, let_relation: relation }) =>
      compare(letterCount(text, letter as string), relation!, frequency!),
  },
  {
    id: 'language:response_language',
    arguments: { language: 'language' },
    check: (text, { language }) => isInLanguage(text, language as string),
  },
  {
    id: 'length_constraints:number_sentences',
    arguments: { num_sentences: 'count', relation: 'relation' },
    check: (text, { num_sentences: count, relation }) => compare(countSentences(text), relation!, count!),
  },
  {
    id: 'length_constraints:number_paragraphs',
    arguments: { num_paragraphs: 'count' },
    check: (text, { num_paragraphs: count }) => countDividedParagraphs(text) === count,
  },
  {
    id: 'length_constraints:number_words',
    arguments: { num_words: 'count', relation: 'relation' },
    check: (text, { num_words: count, relation }) => compare(countWords(text), relation!, count!),
  },
  {
    id: 'length_constraints:nth_paragraph_first_word',
    arguments: { num_paragraphs: 'count', nth_paragraph: 'count', first_word: 'word' },
    validate: ({ num_paragraphs: count, nth_paragraph: nth }) =>
      (nth as number) < 1 || (nth as number) > (count as number)
        ? { argument: 'nth_paragraph', problem: `must be between 1 and num_paragraphs (${String(count)})` }
        : undefined,
    check: followsNthParagraphFirstWord,
  },
  {
    id: 'detectable_content:number_placeholders',
    arguments: { num_placeholders: 'count' },
    check: (text, { num_placeholders: count }) => countMatches(placeholderPattern, text) >= (count as number),
  },
  {
    id: 'detectable_content:postscript',
    arguments: { postscript_marker: 'phrase' },
    check: (text, { postscript_marker: marker }) => postscriptPattern(marker as string).test(text.toLowerCase()),
  },
  {
    id: 'detectable_format:number_bullet_lists',
    arguments: { num_bullets: 'count' },
    check: (text, { num_bullets: count }) => countBullets(text) === count,
  },
  {
    id: 'detectable_format:constrained_response',
    arguments: {},
    check: (text) => {
      const stripped = pyStrip(text);
      return constrainedOptions.some((option) => stripped.includes(option));
    },
  },
  {
    id: 'detectable_format:number_highlighted_sections',
    arguments: { num_highlights: 'count' },
    check: (text, { num_highlights: count }) => countHighlights(text) >= (count as number),
  },
  {
    id: 'detectable_format:multiple_sections',
    arguments: { section_spliter: 'phrase', num_sections: 'count' },
    check: (text, { section_spliter: splitter, num_sections: count }) => sectionCount(text, splitter as string) >= (count as number),
  },
  {
    id: 'detectable_format:json_format',
    arguments: {},
    check: isJsonResponse,
  },
  {
    id: 'detectable_format:title',
    arguments: {},
    check: hasTitle,
  },
  {
    id: 'combination:two_responses',
    arguments: {},
    check: followsTwoResponses,
  },
  {
    id: 'combination:repeat_prompt',
    arguments: { prompt_to_repeat: 'text' },
    check: (text, { prompt_to_repeat: prompt }) => pyStrip(text).toLowerCase().startsWith(pyStrip(prompt as string).toLowerCase()),
  },
  {
    id: 'startend:end_checker',
    arguments: { end_phrase: 'phrase' },
    check: (text, { end_phrase: phrase }) => stripChars(pyStrip(text), '"').toLowerCase().endsWith((phrase as string).toLowerCase()),
  },
  {
    id: 'change_case:capital_word_frequency',
    arguments: { capital_frequency: 'count', capital_relation: 'relation' },
    check: (text, { capital_frequency: count, capital_relation: relation }) => compare(countCapitalWords(text), relation!, count!),
  },
  {
    id: 'change_case:english_capital',
    arguments: {},
    check: async (text) => pyIsUpper(text) && (await isInLanguage(text, 'en')),
  },
  {
    id: 'change_case:english_lowercase',
    arguments: {},
    check: async (text) => pyIsLower(text) && (await isInLanguage(text, 'en')),
  },
  {
    id: 'punctuation:no_comma',
    arguments: {},
    check: (text) => !text.includes(','),
  },
  {
    id: 'startend:quotation',
    arguments: {},
    check: (text) => {
      const stripped = pyStrip(text);
      return pyLength(stripped) > 1 && stripped.startsWith('"') && stripped.endsWith('"');
    },
  },
];

/** The instructions by id, in the order of the reference's registry. */
export const instructionRegistry: ReadonlyMap<string, InstructionDefinition> = new Map(
  definitions.map((definition) => [definition.id, definition]),
);

/** Every instruction id this package checks. */
export const instructionIds: readonly string[] = definitions.map((definition) => definition.id);

/** An argument's value normalised, or a description of what is wrong with it. */
export function parseArgument(kind: ArgumentKind, value: unknown): { value: ArgumentValue } | { problem: string } {
  switch (kind) {
    case 'count':
      if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { value };
      return { problem: `must be a non-negative integer, found ${describe(value)}` };
    case 'relation':
      if (value === 'less than' || value === 'at least') return { value };
      return { problem: `must be "less than" or "at least", found ${describe(value)}` };
    case 'phrase':
    case 'word': {
      if (typeof value !== 'string') return { problem: `must be a string, found ${describe(value)}` };
      const stripped = pyStrip(value);
      if (stripped === '') return { problem: 'must not be empty' };
      return { value: kind === 'word' ? stripped.toLowerCase() : stripped };
    }
    case 'text':
      if (typeof value !== 'string') return { problem: `must be a string, found ${describe(value)}` };
      if (pyStrip(value) === '') return { problem: 'must not be empty' };
      return { value };
    case 'words':
      if (!Array.isArray(value) || value.length === 0) return { problem: `must be a non-empty list of strings, found ${describe(value)}` };
      for (const [index, word] of value.entries()) {
        if (typeof word !== 'string' || word === '') return { problem: `must be a list of non-empty strings; item ${index} is ${describe(word)}` };
      }
      return { value: [...(value as string[])] };
    case 'letter':
      if (typeof value !== 'string' || pyLength(value) !== 1) return { problem: `must be a single character, found ${describe(value)}` };
      return { value: value.toLowerCase() };
    case 'language':
      if (typeof value === 'string' && Object.hasOwn(ifevalLanguages, value)) return { value };
      return { problem: `must be one of IFEval's language codes (${Object.keys(ifevalLanguages).join(', ')}), found ${describe(value)}` };
  }
}

/** A short description of a JSON value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return `${typeof value} ${String(value)}`;
}
