// A deterministic multilingual corpus for parity tests and the benchmark: English, code with long whitespace runs,
// CJK, Arabic, Devanagari, emoji with ZWJ and skin tones, combining marks, numbers, URLs, odd white space and
// special-token strings inside text. Seeded, so every run (and every machine) sees the same bytes.

/** mulberry32: a small seeded generator, enough for test data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

const englishWords = (
  'the of and to in is was that for it with as his on be at by had are but from or have an they which one you were ' +
  'her all she there would their we him been has when who will more no if out so said what up its about into than ' +
  'them can only other new some could time these two may then do first any my now such like our over man me even ' +
  'most made after also did many before must through back years where much your way well down should because each ' +
  'just those people how too little state good very make world still own see men work long get here between both ' +
  'life being under never day same another know while last might us great old year off come since against go came ' +
  'right used take three tokenizer language model self-play challenger solver reward gradient iteration Hugging Face'
).split(' ');
const contractions = ["don't", "I'm", "she'll", "We'Re", "THEY'VE", "it's", "He'D", "you'LL", "o'clock", "rock'n'roll", "'tis", "ca'ſt", "'S"];
const punctuation = ['.', ',', '!', '?', ';', ':', '...', ' -- ', '—', '"', '(', ')', '[', ']', '{', '}', '«', '»', '“', '”', '¿', '¡', '·', '…'];
const specialStrings = [
  '<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_7|>',
  '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<think>', '</think>', '<tool_call>', '<|fim_prefix|>', '<s>', '</s>', '<unk>',
  '<|im_start', '<|begin_of_text|', '< s>', '<|>', '<0x0A>', '<|endoftext|><|endoftext|>',
];
const odd = ['\u00a0', '\u2003', '\u3000', '\u2028', '\u2029', '\u0085', '\u000b', '\u000c', '\u001c', '\u001f', '\u200b', '\u180e', '\ufeff', '\r\n', '\r', '\t', '\u202f', '\u205f', '\u1680'];
const emoji = ['😀', '😂', '🥲', '👍', '👍🏽', '👋🏿', '👩‍💻', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷', '🇯🇵', '❤️', '✨', '🤖', '🧑🏾‍🚀', '🫠', '🪿', '1️⃣', '©️'];
const codeSnippets = [
  'function add(a, b) {\n  return a + b;\n}\n',
  'for (let i = 0; i < n; i++) {\n        total += values[i] * weights[i];\n}\n',
  'def train(model, data):\n    for batch in data:\n        loss = model(batch)\n        loss.backward()\n\n\n',
  '#include <stdio.h>\nint main(void) {\n\tprintf("%d\\n", 42);\n\treturn 0;\n}\r\n',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name;\n',
  '    if (x != null && y !== undefined) { z = x ?? y; }   \n',
  'const url = `https://${host}:${port}/api/v1?q=${encodeURIComponent(query)}`;\n',
  '<div class="row"><span id=\'x\'>&nbsp;&amp;</span></div>\n',
  'fn main() { let v: Vec<u32> = (0..10).map(|i| i * i).collect(); println!("{:?}", v); }\n',
];

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

function integer(random: () => number, low: number, high: number): number {
  return low + Math.floor(random() * (high - low + 1));
}

function fromRange(random: () => number, low: number, high: number): string {
  return String.fromCodePoint(integer(random, low, high));
}

function english(random: () => number): string {
  const words: string[] = [];
  const count = integer(random, 5, 30);
  for (let index = 0; index < count; index++) {
    let word = random() < 0.08 ? pick(random, contractions) : pick(random, englishWords);
    if (index === 0 || random() < 0.05) word = word[0]!.toUpperCase() + word.slice(1);
    if (random() < 0.03) word = word.toUpperCase();
    words.push(word);
    if (random() < 0.12) words.push(pick(random, punctuation));
  }
  return words.join(random() < 0.9 ? ' ' : '  ') + '. ';
}

function code(random: () => number): string {
  let text = pick(random, codeSnippets);
  if (random() < 0.5) text = ' '.repeat(integer(random, 1, 64)) + text;
  if (random() < 0.3) text += '\n'.repeat(integer(random, 1, 5)) + ' '.repeat(integer(random, 0, 40));
  if (random() < 0.2) text += '\t'.repeat(integer(random, 1, 8)) + '\n';
  return text;
}

function cjk(random: () => number): string {
  let text = '';
  const length = integer(random, 5, 60);
  for (let index = 0; index < length; index++) {
    const roll = random();
    if (roll < 0.6) text += fromRange(random, 0x4e00, 0x9fff);
    else if (roll < 0.75) text += fromRange(random, 0x3041, 0x3096);
    else if (roll < 0.85) text += fromRange(random, 0x30a1, 0x30fa);
    else if (roll < 0.95) text += fromRange(random, 0xac00, 0xd7a3);
    else text += pick(random, ['。', '、', '「', '」', '！', '？', '（', '）', '１２３', 'ＡＢＣ']);
  }
  return text + (random() < 0.5 ? ' ' : '\n');
}

function arabic(random: () => number): string {
  const words: string[] = [];
  const count = integer(random, 3, 15);
  for (let index = 0; index < count; index++) {
    let word = '';
    const length = integer(random, 2, 8);
    for (let letter = 0; letter < length; letter++) {
      word += fromRange(random, 0x0621, 0x064a);
      if (random() < 0.3) word += fromRange(random, 0x064b, 0x0652);
    }
    if (random() < 0.1) word += fromRange(random, 0x0660, 0x0669).repeat(integer(random, 1, 4));
    words.push(word);
  }
  return words.join(' ') + pick(random, ['، ', '؟ ', '. ', '\n']);
}

function devanagari(random: () => number): string {
  const words: string[] = [];
  const count = integer(random, 3, 15);
  for (let index = 0; index < count; index++) {
    let word = '';
    const length = integer(random, 1, 5);
    for (let letter = 0; letter < length; letter++) {
      word += fromRange(random, 0x0915, 0x0939);
      const roll = random();
      if (roll < 0.4) word += fromRange(random, 0x093e, 0x094c);
      else if (roll < 0.5) word += '\u094d';
      else if (roll < 0.55) word += '\u0902';
    }
    if (random() < 0.1) word += fromRange(random, 0x0966, 0x096f);
    words.push(word);
  }
  return words.join(' ') + pick(random, ['। ', '॥ ', ' ', '\n']);
}

function combining(random: () => number): string {
  let text = '';
  const length = integer(random, 3, 20);
  for (let index = 0; index < length; index++) {
    text += pick(random, ['a', 'e', 'o', 'u', 'n', 'c', 'A', 'E', 'O', 'i', 'z', 'ſ', 'ı', 'ᄀ', 'ᅡ', 'ᆨ']);
    const marks = integer(random, 0, 3);
    for (let mark = 0; mark < marks; mark++) text += fromRange(random, 0x0300, 0x036f);
    if (random() < 0.1) text += pick(random, ['é', 'Å', 'ñ', 'Ω', 'ǅ', 'ﬁ', 'Ⅻ', '½', '²', '㎏', 'ｶﾞ']);
    if (random() < 0.15) text += ' ';
  }
  return text + ' ';
}

function numbers(random: () => number): string {
  const roll = random();
  if (roll < 0.3) return String(integer(random, 0, 10 ** integer(random, 1, 12))) + ' ';
  if (roll < 0.5) return `${integer(random, 0, 9999)}.${integer(random, 0, 99999)} `;
  if (roll < 0.65) return `${integer(random, 1, 999)},${String(integer(random, 0, 999)).padStart(3, '0')},${String(integer(random, 0, 999)).padStart(3, '0')} `;
  if (roll < 0.8) return `+1 (${integer(random, 100, 999)}) ${integer(random, 100, 999)}-${integer(random, 1000, 9999)} `;
  return pick(random, ['3.14159', '1e-10', '0x1F', '٣٤٥٦', '१२३', '１２３４', '²³', 'Ⅻ', '½¾', '１.５', '12:30', '2026-11-25']) + ' ';
}

function url(random: () => number): string {
  const host = pick(random, ['example.com', 'huggingface.co', 'github.com', 'localhost:8080', 'xn--bcher-kva.example', 'münchen.de']);
  const path = Array.from({ length: integer(random, 0, 4) }, () => pick(random, englishWords)).join('/');
  return `https://${host}/${path}?q=${integer(random, 0, 999)}&lang=en#sec-${integer(random, 1, 9)} `;
}

function randomCodePoints(random: () => number): string {
  let text = '';
  const length = integer(random, 1, 12);
  for (let index = 0; index < length; index++) {
    const roll = random();
    const code = roll < 0.5 ? integer(random, 0x20, 0x2fff) : roll < 0.8 ? integer(random, 0xa000, 0xd7ff) : integer(random, 0x10000, 0x1faff);
    text += String.fromCodePoint(code);
  }
  return text;
}

const generators: [number, (random: () => number) => string][] = [
  [30, english],
  [14, code],
  [8, cjk],
  [6, arabic],
  [6, devanagari],
  [6, (random) => pick(random, emoji) + (random() < 0.5 ? ' ' : '')],
  [5, combining],
  [8, numbers],
  [4, url],
  [5, (random) => pick(random, specialStrings)],
  [5, (random) => pick(random, odd)],
  [3, randomCodePoints],
];
const totalWeight = generators.reduce((sum, [weight]) => sum + weight, 0);

/** One document of roughly `targetLength` UTF-16 units. */
export function generateDocument(random: () => number, targetLength: number): string {
  let text = '';
  while (text.length < targetLength) {
    let roll = random() * totalWeight;
    for (const [weight, generate] of generators) {
      roll -= weight;
      if (roll < 0) {
        text += generate(random);
        break;
      }
    }
  }
  return text;
}

/** Documents until at least `minimumBytes` of UTF-8, each 200 to 4000 UTF-16 units long. */
export function generateCorpus(seed: number, minimumBytes: number): string[] {
  const random = seededRandom(seed);
  const documents: string[] = [];
  let bytes = 0;
  while (bytes < minimumBytes) {
    const document = generateDocument(random, integer(random, 200, 4000));
    documents.push(document);
    bytes += Buffer.byteLength(document, 'utf8');
  }
  return documents;
}

/** Texts with a file's own added tokens inside them, as chat templates produce: every token of `contents` at
 * least once, alone, glued to words, between spaces and newlines, and several in a row. */
export function generateAddedTokenTexts(seed: number, contents: readonly string[]): string[] {
  const random = seededRandom(seed);
  const separators = ['', ' ', '  ', '\n', '\n\n', '\t', 'x', ' word '];
  const pick = <T>(list: readonly T[]): T => list[integer(random, 0, list.length - 1)]!;
  const texts: string[] = contents.map((content) => content);
  for (let start = 0; start < contents.length; start += 4) {
    let text = generateDocument(random, integer(random, 10, 80));
    for (const content of contents.slice(start, start + 4)) {
      text += pick(separators) + content + pick(separators) + generateDocument(random, integer(random, 0, 40));
    }
    texts.push(text);
  }
  return texts;
}
