// Parses and validates a tokenizer.json, then writes the compact binary description the Rust crate reads
// (crates/tokenizer/src/tokenizer.rs, from_description). Every refusal names the field and the value.
import { InvalidInputError } from '@lsp/core';

/** Regexes of real byte-level files, recognised by their exact source and run by hand-written scanners (fast);
 * other regexes run on the crate's general engine. */
const knownRegexes: Record<string, { kind: number; maxDigits?: number; name: string }> = {
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+": { kind: 1, name: 'GPT-2' },
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+":
    { kind: 2, maxDigits: 3, name: 'Llama 3' },
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+":
    { kind: 2, maxDigits: 1, name: 'Qwen 2' },
  // DeepSeek-V3's three Split regexes, one after another in its Sequence.
  '\\p{N}{1,3}': { kind: 4, name: 'DeepSeek-V3 numbers' },
  '[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+': { kind: 5, name: 'DeepSeek-V3 Han and kana' },
  "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+":
    { kind: 6, name: 'DeepSeek-V3 words' },
};

const behaviors = ['Removed', 'Isolated', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous'];
const prependSchemes = ['always', 'first', 'never'];

type Json = Record<string, unknown>;

/** The parts of a tokenizer.json the TypeScript side keeps (special tokens, post-processor ids). */
export interface TokenizerSummary {
  addedTokens: { content: string; id: number; special: boolean }[];
  prefixIds: number[];
  suffixIds: number[];
}

/** Little-endian u32s and length-prefixed UTF-8 strings in one growing buffer (hundreds of thousands of strings). */
class DescriptionWriter {
  private bytes = new Uint8Array(1 << 20);
  private view = new DataView(this.bytes.buffer);
  private position = 0;
  private readonly encoder = new TextEncoder();

  private reserve(extra: number): void {
    if (this.position + extra <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.position + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.position));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }
  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.position, value >>> 0, true);
    this.position += 4;
  }
  bool(value: unknown): void {
    this.u32(value ? 1 : 0);
  }
  string(value: string): void {
    this.reserve(4 + value.length * 3);
    const { written } = this.encoder.encodeInto(value, this.bytes.subarray(this.position + 4));
    this.view.setUint32(this.position, written, true);
    this.position += 4 + written;
  }
  char(value: string): void {
    this.u32(value.codePointAt(0) ?? 0);
  }
  ids(values: readonly number[]): void {
    this.u32(values.length);
    for (const value of values) this.u32(value);
  }
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.position);
  }
}

function refuse(field: string, value: unknown, supported?: readonly string[]): never {
  const shown = typeof value === 'string' ? `"${value.length > 120 ? `${value.slice(0, 120)}...` : value}"` : JSON.stringify(value);
  const tail = supported ? ` (supported: ${supported.join(', ')})` : '';
  throw new InvalidInputError(`tokenizer.json: ${field} ${shown} is not supported${tail}`);
}

function invalid(field: string, problem: string): never {
  throw new InvalidInputError(`tokenizer.json: ${field} ${problem}`);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(object: Json, key: string, field: string): string {
  const value = object[key];
  if (typeof value !== 'string') invalid(`${field}.${key}`, `must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** The literal of a {"String": ...} pattern (regex patterns are handled by the callers). */
function literalPattern(pattern: unknown, field: string): string {
  if (isObject(pattern) && typeof pattern.String === 'string') return pattern.String;
  return invalid(field, `must be {"String": ...} or {"Regex": ...}, got ${JSON.stringify(pattern)}`);
}

/** A Replace normalizer or decoder: a string pattern, or a regex for the crate's engine (with its field name). */
function writeReplace(writer: DescriptionWriter, node: Json, field: string, stringKind: number, regexKind: number): void {
  const pattern = node.pattern;
  if (isObject(pattern) && typeof pattern.Regex === 'string') {
    writer.u32(regexKind);
    writer.string(`${field}.pattern.Regex`);
    writer.string(pattern.Regex);
  } else {
    writer.u32(stringKind);
    writer.string(literalPattern(pattern, `${field}.pattern`));
  }
  writer.string(stringField(node, 'content', field));
}

const normalizerTypes = ['NFC', 'NFD', 'NFKC', 'NFKD', 'Lowercase', 'Strip', 'Prepend', 'Replace', 'Sequence'];

function flattenNormalizers(value: unknown, field: string, out: { node: Json; field: string }[]): void {
  if (value === null || value === undefined) return;
  if (!isObject(value)) invalid(field, `must be an object, got ${JSON.stringify(value)}`);
  if (value.type === 'Sequence') {
    const list = value.normalizers;
    if (!Array.isArray(list)) invalid(`${field}.normalizers`, 'must be an array');
    list.forEach((item, index) => flattenNormalizers(item, `${field}.normalizers[${index}]`, out));
    return;
  }
  out.push({ node: value, field });
}

function writeNormalizers(writer: DescriptionWriter, value: unknown): void {
  const list: { node: Json; field: string }[] = [];
  flattenNormalizers(value, 'normalizer', list);
  writer.u32(list.length);
  for (const { node, field } of list) {
    switch (node.type) {
      case 'NFC': writer.u32(1); break;
      case 'NFD': writer.u32(2); break;
      case 'NFKC': writer.u32(3); break;
      case 'NFKD': writer.u32(4); break;
      case 'Lowercase': writer.u32(5); break;
      case 'Strip':
        writer.u32(6);
        writer.bool(node.strip_left ?? node.left);
        writer.bool(node.strip_right ?? node.right);
        break;
      case 'Prepend':
        writer.u32(7);
        writer.string(stringField(node, 'prepend', field));
        break;
      case 'Replace':
        writeReplace(writer, node, field, 8, 9);
        break;
      default:
        refuse(`${field}.type`, node.type, normalizerTypes);
    }
  }
}

const preTokenizerTypes = ['ByteLevel', 'Split', 'Metaspace', 'Digits', 'Punctuation', 'Whitespace', 'WhitespaceSplit', 'Sequence'];

function flattenPreTokenizers(value: unknown, field: string, out: { node: Json; field: string }[]): void {
  if (value === null || value === undefined) return;
  if (!isObject(value)) invalid(field, `must be an object, got ${JSON.stringify(value)}`);
  if (value.type === 'Sequence') {
    const list = value.pretokenizers;
    if (!Array.isArray(list)) invalid(`${field}.pretokenizers`, 'must be an array');
    list.forEach((item, index) => flattenPreTokenizers(item, `${field}.pretokenizers[${index}]`, out));
    return;
  }
  out.push({ node: value, field });
}

function behaviorCode(value: unknown, field: string): number {
  const index = behaviors.indexOf(String(value));
  if (index < 0) refuse(field, value, behaviors);
  return index;
}

function prependSchemeCode(node: Json, field: string): number {
  if (node.prepend_scheme !== undefined) {
    const index = prependSchemes.indexOf(String(node.prepend_scheme));
    if (index < 0) refuse(`${field}.prepend_scheme`, node.prepend_scheme, prependSchemes);
    return index;
  }
  // Files older than prepend_scheme carry add_prefix_space instead.
  return node.add_prefix_space === false ? 2 : 0;
}

function writePreTokenizers(writer: DescriptionWriter, value: unknown): void {
  const list: { node: Json; field: string }[] = [];
  flattenPreTokenizers(value, 'pre_tokenizer', list);
  const byteLevelIndex = list.findIndex(({ node }) => node.type === 'ByteLevel');
  if (byteLevelIndex >= 0 && byteLevelIndex !== list.length - 1) {
    refuse(`${list[byteLevelIndex + 1]!.field}.type`, list[byteLevelIndex + 1]!.node.type, ['nothing after ByteLevel']);
  }
  writer.u32(list.length);
  for (const { node, field } of list) {
    switch (node.type) {
      case 'Split': {
        writer.u32(1);
        const pattern = node.pattern;
        if (isObject(pattern) && typeof pattern.Regex === 'string') {
          const known = knownRegexes[pattern.Regex];
          if (known) {
            writer.u32(known.kind);
            if (known.kind === 2) writer.u32(known.maxDigits ?? 3);
          } else {
            // Any other regex goes to the crate's backtracking engine, which refuses what it cannot run exactly.
            writer.u32(3);
            writer.string(`${field}.pattern.Regex`);
            writer.string(pattern.Regex);
          }
        } else {
          writer.u32(0);
          writer.string(literalPattern(pattern, `${field}.pattern`));
        }
        writer.u32(behaviorCode(node.behavior, `${field}.behavior`));
        writer.bool(node.invert);
        break;
      }
      case 'ByteLevel':
        writer.u32(2);
        writer.bool(node.add_prefix_space);
        writer.bool(node.use_regex ?? true);
        break;
      case 'Metaspace':
        writer.u32(3);
        writer.char(stringField(node, 'replacement', field));
        writer.u32(prependSchemeCode(node, field));
        writer.bool(node.split ?? true);
        break;
      case 'Digits':
        writer.u32(4);
        writer.bool(node.individual_digits);
        break;
      case 'Punctuation':
        writer.u32(5);
        writer.u32(behaviorCode(node.behavior ?? 'Isolated', `${field}.behavior`));
        break;
      case 'Whitespace': writer.u32(6); break;
      case 'WhitespaceSplit': writer.u32(7); break;
      default:
        refuse(`${field}.type`, node.type, preTokenizerTypes);
    }
  }
}

function writeModel(writer: DescriptionWriter, model: unknown): void {
  if (!isObject(model)) invalid('model', 'must be an object');
  if (model.type !== undefined && model.type !== 'BPE') refuse('model.type', model.type, ['BPE']);
  const vocab = model.vocab;
  if (!isObject(vocab)) invalid('model.vocab', 'must be an object of token to id');
  const entries = Object.entries(vocab);
  writer.u32(entries.length);
  // Ids index tables in wasm memory, sized by the largest id: a real vocabulary numbers its tokens from 0 with at
  // most a few gaps, so an id far past the number of entries is a damaged file, not a table to allocate.
  const largestId = Math.min(entries.length + 65_536, 1 << 24) - 1;
  for (const [token, id] of entries) {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > largestId) {
      invalid(`model.vocab["${token.slice(0, 40)}"]`, `must be an integer id from 0 to ${largestId} (the vocabulary has ${entries.length} entries), got ${JSON.stringify(id)}`);
    }
    writer.string(token);
    writer.u32(id);
  }
  const merges = model.merges;
  if (!Array.isArray(merges)) invalid('model.merges', 'must be an array');
  writer.u32(merges.length);
  merges.forEach((merge: unknown, index) => {
    let pair: unknown[];
    if (typeof merge === 'string') {
      pair = merge.split(' ');
    } else if (Array.isArray(merge)) {
      pair = merge;
    } else {
      return invalid(`model.merges[${index}]`, `must be "a b" or ["a", "b"], got ${JSON.stringify(merge)}`);
    }
    if (pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      invalid(`model.merges[${index}]`, `must be "a b" or ["a", "b"], got ${JSON.stringify(merge)}`);
    }
    writer.string(pair[0] as string);
    writer.string(pair[1] as string);
  });
  const unk = model.unk_token;
  if (unk !== null && unk !== undefined && typeof unk !== 'string') invalid('model.unk_token', 'must be a string or null');
  writer.bool(typeof unk === 'string');
  writer.string(typeof unk === 'string' ? unk : '');
  writer.bool(model.byte_fallback);
  writer.bool(model.fuse_unk);
  writer.bool(model.ignore_merges);
  writer.string(typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '');
  writer.string(typeof model.end_of_word_suffix === 'string' ? model.end_of_word_suffix : '');
}

function readAddedTokens(value: unknown): { content: string; id: number; special: boolean; node: Json }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) invalid('added_tokens', 'must be an array');
  return value.map((node: unknown, index) => {
    if (!isObject(node)) invalid(`added_tokens[${index}]`, 'must be an object');
    const content = stringField(node, 'content', `added_tokens[${index}]`);
    if (typeof node.id !== 'number' || !Number.isInteger(node.id) || node.id < 0) {
      invalid(`added_tokens[${index}].id`, `must be a non-negative integer, got ${JSON.stringify(node.id)}`);
    }
    return { content, id: node.id, special: node.special === true, node };
  });
}

/** Token ids the post-processor adds: integers below 2^24, like the vocabulary's. */
function tokenIds(value: unknown, field: string): number[] {
  if (!Array.isArray(value) || !value.every((id) => Number.isInteger(id) && id >= 0 && id < 1 << 24)) {
    invalid(field, `must hold token ids (integers from 0 to 16777215), got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return value as number[];
}

const postProcessorTypes = ['TemplateProcessing', 'ByteLevel', 'RobertaProcessing', 'BertProcessing', 'Sequence'];

/** The ids the post-processor puts before and after a single sequence. */
function postProcessorIds(value: unknown, field: string): { prefix: number[]; suffix: number[] } {
  if (value === null || value === undefined) return { prefix: [], suffix: [] };
  if (!isObject(value)) invalid(field, 'must be an object');
  switch (value.type) {
    case 'ByteLevel':
      return { prefix: [], suffix: [] };
    case 'TemplateProcessing': {
      const single = value.single;
      const specials = isObject(value.special_tokens) ? value.special_tokens : {};
      if (!Array.isArray(single)) invalid(`${field}.single`, 'must be an array');
      const prefix: number[] = [];
      const suffix: number[] = [];
      let seenSequence = false;
      single.forEach((item: unknown, index) => {
        if (isObject(item) && isObject(item.Sequence)) {
          seenSequence = true;
          return;
        }
        if (!isObject(item) || !isObject(item.SpecialToken)) invalid(`${field}.single[${index}]`, 'must be a Sequence or a SpecialToken');
        const name = String(item.SpecialToken.id);
        const special = specials[name];
        if (!isObject(special) || !Array.isArray(special.ids)) invalid(`${field}.special_tokens`, `has no ids for "${name}"`);
        (seenSequence ? suffix : prefix).push(...tokenIds(special.ids, `${field}.special_tokens["${name}"].ids`));
      });
      return { prefix, suffix };
    }
    case 'RobertaProcessing':
    case 'BertProcessing': {
      const cls = value.cls;
      const sep = value.sep;
      if (!Array.isArray(cls)) invalid(`${field}.cls`, 'must be [token, id]');
      if (!Array.isArray(sep)) invalid(`${field}.sep`, 'must be [token, id]');
      return { prefix: tokenIds([cls[1]], `${field}.cls`), suffix: tokenIds([sep[1]], `${field}.sep`) };
    }
    case 'Sequence': {
      const list = value.processors;
      if (!Array.isArray(list)) invalid(`${field}.processors`, 'must be an array');
      let prefix: number[] = [];
      let suffix: number[] = [];
      list.forEach((item: unknown, index) => {
        const inner = postProcessorIds(item, `${field}.processors[${index}]`);
        prefix = [...inner.prefix, ...prefix];
        suffix = [...suffix, ...inner.suffix];
      });
      return { prefix, suffix };
    }
    default:
      return refuse(`${field}.type`, value.type, postProcessorTypes);
  }
}

const decoderTypes = ['ByteLevel', 'Metaspace', 'ByteFallback', 'Fuse', 'Strip', 'Replace', 'Sequence'];

function flattenDecoders(value: unknown, field: string, out: { node: Json; field: string }[]): void {
  if (value === null || value === undefined) return;
  if (!isObject(value)) invalid(field, 'must be an object');
  if (value.type === 'Sequence') {
    const list = value.decoders;
    if (!Array.isArray(list)) invalid(`${field}.decoders`, 'must be an array');
    list.forEach((item, index) => flattenDecoders(item, `${field}.decoders[${index}]`, out));
    return;
  }
  out.push({ node: value, field });
}

function writeDecoders(writer: DescriptionWriter, value: unknown): void {
  const list: { node: Json; field: string }[] = [];
  flattenDecoders(value, 'decoder', list);
  writer.u32(list.length);
  for (const { node, field } of list) {
    switch (node.type) {
      case 'ByteLevel': writer.u32(1); break;
      case 'Metaspace':
        writer.u32(2);
        writer.char(stringField(node, 'replacement', field));
        writer.u32(prependSchemeCode(node, field));
        break;
      case 'ByteFallback': writer.u32(3); break;
      case 'Fuse': writer.u32(4); break;
      case 'Strip':
        writer.u32(5);
        writer.char(stringField(node, 'content', field));
        writer.u32(Number(node.start ?? 0));
        writer.u32(Number(node.stop ?? 0));
        break;
      case 'Replace':
        writeReplace(writer, node, field, 6, 7);
        break;
      default:
        refuse(`${field}.type`, node.type, decoderTypes);
    }
  }
}

/** Validates a parsed tokenizer.json and returns the Rust description plus what TypeScript keeps. */
export function describeTokenizer(json: unknown): { description: Uint8Array; summary: TokenizerSummary } {
  if (!isObject(json)) invalid('', 'must hold a JSON object');
  const writer = new DescriptionWriter();
  writeNormalizers(writer, json.normalizer);
  writePreTokenizers(writer, json.pre_tokenizer);
  const preTokenizers: { node: Json; field: string }[] = [];
  flattenPreTokenizers(json.pre_tokenizer, 'pre_tokenizer', preTokenizers);
  if (preTokenizers.some(({ node }) => node.type === 'ByteLevel') && isObject(json.model)) {
    // Byte-level models are keyed by raw bytes; a subword prefix or suffix in mapped chars has no byte form here.
    for (const key of ['continuing_subword_prefix', 'end_of_word_suffix']) {
      const value = json.model[key];
      if (typeof value === 'string' && value !== '') refuse(`model.${key}`, value, ['null or "" with a ByteLevel pre-tokenizer']);
    }
  }
  writeModel(writer, json.model);
  const added = readAddedTokens(json.added_tokens);
  writer.u32(added.length);
  for (const token of added) {
    writer.string(token.content);
    writer.u32(token.id);
    writer.bool(token.special);
    writer.bool(token.node.normalized ?? !token.special);
    writer.bool(token.node.lstrip);
    writer.bool(token.node.rstrip);
    writer.bool(token.node.single_word);
  }
  const { prefix, suffix } = postProcessorIds(json.post_processor, 'post_processor');
  writer.ids(prefix);
  writer.ids(suffix);
  writeDecoders(writer, json.decoder);
  return {
    description: writer.finish(),
    summary: {
      addedTokens: added.map(({ content, id, special }) => ({ content, id, special })),
      prefixIds: prefix,
      suffixIds: suffix,
    },
  };
}
