// Sentence splitting as the IFEval reference does it: NLTK's Punkt sentence tokenizer (Kiss & Strunk 2006) with
// the pretrained English parameters (punkt-english.json), which `count_sentences` and, through `word_tokenize`,
// the capital-word count use. This is a re-implementation of the decision procedure only (no training): find
// every '.', '?' or '!' followed by punctuation or by whitespace and a token; tokenize the word before it and the
// token after it; mark period-final tokens as sentence breaks unless they are known abbreviations; then revisit
// each break with the collocation, orthographic and frequent-sentence-starter heuristics; finally move closing
// quotes and brackets that follow a break back into the sentence they close.
import parameters from './punkt-english.json';
import { pyDigit, pyNonSpace, pyRstrip, pySpace, pyStrip, pyWord, firstChar } from './python-text';

const orthoBeginUpper = 1 << 1;
const orthoMiddleUpper = 1 << 2;
const orthoUnknownUpper = 1 << 3;
const orthoBeginLower = 1 << 4;
const orthoMiddleLower = 1 << 5;
const orthoUnknownLower = 1 << 6;
const orthoUpper = orthoBeginUpper | orthoMiddleUpper | orthoUnknownUpper;
const orthoLower = orthoBeginLower | orthoMiddleLower | orthoUnknownLower;

interface PunktModel {
  abbreviations: Set<string>;
  collocations: Set<string>;
  sentenceStarters: Set<string>;
  orthographicContext: Map<string, number>;
}

let model: PunktModel | undefined;

function punktModel(): PunktModel {
  if (model) return model;
  const orthographicContext = new Map<string, number>();
  for (const [flags, words] of Object.entries(parameters.orthographicContext as Record<string, string>)) {
    for (const word of words.split(' ')) if (word !== '') orthographicContext.set(word, Number(flags));
  }
  model = {
    abbreviations: new Set(parameters.abbreviations),
    collocations: new Set(parameters.collocations.map(([first, second]) => `${first} ${second}`)),
    sentenceStarters: new Set(parameters.sentenceStarters),
    orthographicContext,
  };
  return model;
}

// The language variables of Punkt's English tokenizer.
const nonWordChar = '[)";}\\]*:@\'({\\[!?]';
const multiCharPunctuation = `(?:-{2,}|\\.{2,}|(?:\\.${pySpace}){2,}\\.)`;
const wordStart = '[^("`{\\[:;&#*@)}\\]\\-,]';
const wordTokenPattern = new RegExp(
  `${multiCharPunctuation}` +
    `|(?=${wordStart})${pyNonSpace}+?(?=${pySpace}|$|${nonWordChar}|${multiCharPunctuation}|,(?=$|${pySpace}|${nonWordChar}|${multiCharPunctuation}))` +
    `|${pyNonSpace}`,
  'gu',
);
/** A possible sentence end: the character, then (captured in a lookahead) punctuation or whitespace and a token. */
const periodContextPattern = new RegExp(`[.?!](?=(${nonWordChar}|${pySpace}+(${pyNonSpace}+)))`, 'gu');
const boundaryRealignment = new RegExp(`^["')\\]}]+?(?:${pySpace}+|(?=--)|(?=\\n|$))`, 'u');

const numericPattern = new RegExp(`^-?[.,]?${pyDigit}[${pyDigit},.\\-]*\\.?$`, 'u');
const ellipsisPattern = /^\.\.+$/;
const initialPattern = new RegExp(`^(?!${pyDigit})${pyWord}\\.$`, 'u');
const asciiWhitespace = new Set([' ', '\t', '\n', '\r', '\v', '\f']);
const punctuationTokens = new Set([';', ':', ',', '.', '!', '?']);
const sentenceEndTokens = new Set(['.', '?', '!']);

class Token {
  readonly type: string;
  readonly periodFinal: boolean;
  sentbreak = false;
  abbr = false;
  ellipsis = false;

  constructor(readonly text: string) {
    const lower = text.toLowerCase();
    this.type = numericPattern.test(lower) ? '##number##' : lower;
    this.periodFinal = text.endsWith('.');
  }

  get typeNoPeriod(): string {
    return this.type.length > 1 && this.type.endsWith('.') ? this.type.slice(0, -1) : this.type;
  }

  get typeNoSentPeriod(): string {
    return this.sentbreak ? this.typeNoPeriod : this.type;
  }

  get firstUpper(): boolean {
    const first = firstChar(this.text);
    return first !== '' && /\p{Uppercase}/u.test(first);
  }

  get firstLower(): boolean {
    const first = firstChar(this.text);
    return first !== '' && /\p{Lowercase}/u.test(first);
  }

  get isInitial(): boolean {
    return initialPattern.test(this.text);
  }
}

/** Punkt's word tokenizer: splits off punctuation other than periods, line by line. */
function punktWords(text: string): Token[] {
  const tokens: Token[] = [];
  for (const line of text.split('\n')) {
    if (pyStrip(line) === '') continue;
    for (const match of line.matchAll(wordTokenPattern)) tokens.push(new Token(match[0]));
  }
  return tokens;
}

function annotate(tokens: Token[]): Token[] {
  const { abbreviations } = punktModel();
  for (const token of tokens) {
    const text = token.text;
    if (sentenceEndTokens.has(text)) token.sentbreak = true;
    else if (ellipsisPattern.test(text)) token.ellipsis = true;
    else if (token.periodFinal && !text.endsWith('..')) {
      const stem = text.slice(0, -1).toLowerCase();
      if (abbreviations.has(stem) || abbreviations.has(stem.split('-').at(-1)!)) token.abbr = true;
      else token.sentbreak = true;
    }
  }
  for (let index = 0; index + 1 < tokens.length; index++) secondPass(tokens[index]!, tokens[index + 1]!);
  return tokens;
}

/** Whether `token` starts a sentence by the orthographic evidence: true, false, or 'unknown'. */
function orthographicHeuristic(token: Token): boolean | 'unknown' {
  if (punctuationTokens.has(token.text)) return false;
  const context = punktModel().orthographicContext.get(token.typeNoSentPeriod) ?? 0;
  if (token.firstUpper && (context & orthoLower) !== 0 && (context & orthoMiddleUpper) === 0) return true;
  if (token.firstLower && ((context & orthoUpper) !== 0 || (context & orthoBeginLower) === 0)) return false;
  return 'unknown';
}

function secondPass(token: Token, next: Token): void {
  if (!token.periodFinal) return;
  const { collocations, sentenceStarters, orthographicContext } = punktModel();
  const type = token.typeNoPeriod;
  const nextType = next.typeNoSentPeriod;
  const initial = token.isInitial;
  if (collocations.has(`${type} ${nextType}`)) {
    token.sentbreak = false;
    token.abbr = true;
    return;
  }
  if ((token.abbr || token.ellipsis) && !initial) {
    if (orthographicHeuristic(next) === true) {
      token.sentbreak = true;
      return;
    }
    if (next.firstUpper && sentenceStarters.has(nextType)) {
      token.sentbreak = true;
      return;
    }
  }
  if (initial || type === '##number##') {
    const starter = orthographicHeuristic(next);
    if (starter === false) {
      token.sentbreak = false;
      token.abbr = true;
      return;
    }
    if (starter === 'unknown' && initial && next.firstUpper && ((orthographicContext.get(nextType) ?? 0) & orthoLower) === 0) {
      token.sentbreak = false;
      token.abbr = true;
    }
  }
}

/** Whether a context (the word before a possible end, the end, what follows) holds a break before its last token. */
function containsSentenceBreak(context: string): boolean {
  let found = false;
  for (const token of annotate(punktWords(context))) {
    if (found) return true;
    if (token.sentbreak) found = true;
  }
  return false;
}

function lastAsciiWhitespace(text: string): number {
  for (let index = text.length - 1; index >= 0; index--) if (asciiWhitespace.has(text[index]!)) return index;
  return 0;
}

interface EndContext {
  end: number;
  nextTokenStart: number | undefined;
  context: string;
}

/** The possible sentence ends with their contexts; of several ends inside one word only the last is kept. */
function endContexts(text: string): EndContext[] {
  const contexts: EndContext[] = [];
  let previous: { match: RegExpExecArray; start: number; stop: number } | undefined;
  let previousStart = 0;
  let previousStop = 0;
  const emit = (entry: { match: RegExpExecArray; start: number; stop: number }) => {
    const { match } = entry;
    const afterToken = match[1]!;
    const nextToken = match[2];
    contexts.push({
      end: match.index + 1,
      nextTokenStart: nextToken === undefined ? undefined : match.index + 1 + afterToken.length - nextToken.length,
      context: text.slice(entry.start, entry.stop) + match[0] + afterToken,
    });
  };
  periodContextPattern.lastIndex = 0;
  for (let match = periodContextPattern.exec(text); match !== null; match = periodContextPattern.exec(text)) {
    const before = text.slice(previousStop, match.index);
    let wordStartAt = lastAsciiWhitespace(before);
    wordStartAt = wordStartAt !== 0 ? wordStartAt + previousStop + 1 : previousStart;
    if (previous && previousStop <= wordStartAt) emit(previous);
    previous = { match, start: wordStartAt, stop: match.index };
    previousStart = wordStartAt;
    previousStop = match.index;
  }
  if (previous) emit(previous);
  return contexts;
}

/** Punkt's sentences of `text`, as NLTK's sent_tokenize returns them (realigned, empty ones dropped). */
export function punktSentences(text: string): string[] {
  const slices: [number, number][] = [];
  let lastBreak = 0;
  for (const { end, nextTokenStart, context } of endContexts(text)) {
    if (!containsSentenceBreak(context)) continue;
    slices.push([lastBreak, end]);
    lastBreak = nextTokenStart ?? end;
  }
  slices.push([lastBreak, pyRstrip(text).length]);

  const sentences: string[] = [];
  let realign = 0;
  for (let index = 0; index < slices.length; index++) {
    const [start, stop] = slices[index]!;
    const first: [number, number] = [start + realign, stop];
    const second = slices[index + 1];
    if (!second) {
      if (first[0] < first[1]) sentences.push(text.slice(first[0], first[1]));
      continue;
    }
    const match = boundaryRealignment.exec(text.slice(second[0], second[1]));
    if (match) {
      sentences.push(text.slice(first[0], second[0] + pyRstrip(match[0]).length));
      realign = match[0].length;
    } else {
      realign = 0;
      if (first[0] < first[1]) sentences.push(text.slice(first[0], first[1]));
    }
  }
  return sentences;
}

/** The reference's count_sentences: how many sentences Punkt finds. */
export function countSentences(text: string): number {
  return punktSentences(text).length;
}
