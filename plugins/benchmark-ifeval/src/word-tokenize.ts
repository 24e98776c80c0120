// Word tokenization as the IFEval reference's capital-word count does it: NLTK's word_tokenize, that is Punkt
// sentences, each split by NLTK's improved Treebank tokenizer (quotes, punctuation, brackets, double dashes,
// clitics such as n't and 'm, and the MacIntyre contractions cannot/gonna/gotta/...). A re-implementation of
// those substitution rules with Python's character classes.
import { punktSentences } from './punkt';
import { pyBoundary, pyDigit, pySpace, pySplit, pyWord } from './python-text';

type Rule = [RegExp, string];

const startingQuotes: Rule[] = [
  [/([«“‘„]|`+)/gu, ' $1 '],
  [/^"/u, '``'],
  [/(``)/gu, ' $1 '],
  [/([ ([{<])("|'{2})/gu, '$1 `` '],
  [new RegExp(`(')(?!re|ve|ll|m|t|s|d|n)(${pyWord})${pyBoundary}`, 'giu'), '$1 $2'],
];

const punctuation: Rule[] = [
  [new RegExp(`([^.])(\\.)([\\])}>"'»”’ ]*)${pySpace}*$`, 'u'), '$1 $2 $3 '],
  [new RegExp(`([:,])([^${pyDigit}])`, 'gu'), ' $1 $2'],
  [/([:,])(?=\n?$)/u, ' $1 '],
  [/\.{2,}/gu, ' $& '],
  [/[;@#$%&]/gu, ' $& '],
  [new RegExp(`([^.])(\\.)([\\])}>"']*)${pySpace}*$`, 'u'), '$1 $2$3 '],
  [/[?!]/gu, ' $& '],
  [/([^'])' /gu, "$1 ' "],
  [/[*]/gu, ' $& '],
];

const parensBrackets: Rule = [/[\][(){}<>]/gu, ' $& '];
const doubleDashes: Rule = [/--/gu, ' -- '];

const endingQuotes: Rule[] = [
  [/([»”’])/gu, ' $1 '],
  [/''/gu, " '' "],
  [/"/gu, " '' "],
  [/([^' ])('[sS]|'[mM]|'[dD]|') /gu, '$1 $2 '],
  [/([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) /gu, '$1 $2 '],
];

const contractions: Rule[] = [
  ...[['can', 'not'], ['d', "'ye"], ['gim', 'me'], ['gon', 'na'], ['got', 'ta'], ['lem', 'me'], ['more', "'n"]].map(
    ([first, second]): Rule => [new RegExp(`${pyBoundary}(${first})(${second})${pyBoundary}`, 'giu'), ' $1 $2 '],
  ),
  [new RegExp(`${pyBoundary}(wan)(na)(?=${pySpace})`, 'giu'), ' $1 $2 '],
  [new RegExp(` ('t)(is)${pyBoundary}`, 'giu'), ' $1 $2 '],
  [new RegExp(` ('t)(was)${pyBoundary}`, 'giu'), ' $1 $2 '],
];

function apply(text: string, rules: readonly Rule[]): string {
  let result = text;
  for (const [pattern, replacement] of rules) result = result.replace(pattern, replacement);
  return result;
}

/** NLTK's Treebank-style tokenization of one sentence. */
export function treebankTokens(sentence: string): string[] {
  let text = apply(sentence, startingQuotes);
  text = apply(text, punctuation);
  text = apply(text, [parensBrackets, doubleDashes]);
  text = ` ${text} `;
  text = apply(text, endingQuotes);
  text = apply(text, contractions);
  return pySplit(text);
}

/** NLTK's word_tokenize: Punkt sentences, each tokenized. */
export function wordTokenize(text: string): string[] {
  return punktSentences(text).flatMap(treebankTokens);
}
