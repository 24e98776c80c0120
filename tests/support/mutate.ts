// Seeded mutations of the files users hand the project: JSON edited by structure (fields deleted or retyped, huge,
// negative and fractional numbers, arrays cut short) and bytes edited blindly (truncations, flips, insertions).
import { seededRandom } from '../../plugins/tokenizer-wasm/src/tokenizer-corpus';

export type Random = () => number;
export { seededRandom };

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Values a field is replaced with: the wrong type, numbers that overflow sizes, and strings that look like numbers. */
const replacements: JsonValue[] = [
  null, true, false, 0, -1, -3, 1, 2.5, 0.1, 1e300, -1e300, 2 ** 31, 2 ** 32, 2 ** 53, 1e9, 1e15, 65536,
  '', '4', 'x', '\u0000', '<|end|>', 'ĠĠ', 'float16', 'llama3', 'Sequence', 'BPE', 'ByteLevel', 'Split',
  [], [1, 2], [[]], ['a'], [-1], [1e300], {}, { a: 1 }, { type: 'x' }, { id: 'x' },
];

export function pick<T>(random: Random, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)]!;
}

/** Every path into a JSON value (the root is the empty path). */
function paths(value: JsonValue, prefix: (string | number)[] = [], out: (string | number)[][] = [], limit = 20_000): (string | number)[][] {
  if (out.length >= limit) return out;
  out.push(prefix);
  if (Array.isArray(value)) {
    // Long arrays (vocabularies, merges): a sample of their elements is enough.
    const step = Math.max(1, Math.floor(value.length / 64));
    for (let index = 0; index < value.length; index += step) paths(value[index]!, [...prefix, index], out, limit);
  } else if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value);
    const step = Math.max(1, Math.floor(keys.length / 64));
    for (let index = 0; index < keys.length; index += step) paths(value[keys[index]!]!, [...prefix, keys[index]!], out, limit);
  }
  return out;
}

function parentOf(root: JsonValue, path: (string | number)[]): { parent: JsonValue; key: string | number } | undefined {
  if (path.length === 0) return undefined;
  let node = root;
  for (const key of path.slice(0, -1)) node = (node as Record<string | number, JsonValue>)[key]!;
  return { parent: node, key: path[path.length - 1]! };
}

/** One to three structural edits of a deep copy of `value`, with a description of each. */
export function mutateJson(value: unknown, random: Random): { value: unknown; edits: string[] } {
  let root = structuredClone(value) as JsonValue;
  const edits: string[] = [];
  const count = 1 + Math.floor(random() * 3);
  for (let edit = 0; edit < count; edit++) {
    const path = pick(random, paths(root));
    const place = parentOf(root, path);
    const where = path.join('.') || '(root)';
    const roll = random();
    const current = place ? (place.parent as Record<string | number, JsonValue>)[place.key] : root;
    if (!place) {
      if (roll < 0.5) { root = pick(random, replacements); edits.push(`root = ${JSON.stringify(root)}`); }
      continue;
    }
    const container = place.parent as Record<string | number, JsonValue> & JsonValue[];
    if (roll < 0.3) {
      if (Array.isArray(container)) container.splice(place.key as number, 1);
      else delete container[place.key];
      edits.push(`delete ${where}`);
    } else if (roll < 0.75) {
      const replacement = pick(random, replacements);
      container[place.key] = structuredClone(replacement);
      edits.push(`${where} = ${JSON.stringify(replacement)}`);
    } else if (roll < 0.85 && typeof current === 'number') {
      const scaled = pick(random, [current * 1e6, -current, current + 0.5, current * 2 ** 30, current + 1, current - 1]);
      container[place.key] = scaled;
      edits.push(`${where} = ${scaled}`);
    } else if (roll < 0.92 && Array.isArray(current)) {
      const kept = Math.floor(random() * current.length);
      current.length = kept;
      edits.push(`${where} cut to ${kept} elements`);
    } else if (typeof current === 'string') {
      const text = current.slice(0, Math.floor(random() * (current.length + 1))) + pick(random, ['', '\u0301', '|>', '(', '\\', '[', '*', '?', '\ud800']);
      container[place.key] = text;
      edits.push(`${where} = ${JSON.stringify(text)}`);
    } else {
      const copy = structuredClone(current) as JsonValue;
      container[place.key] = copy;
      if (!Array.isArray(container)) (container as Record<string, JsonValue>)[`${place.key}_copy`] = structuredClone(copy);
      edits.push(`${where} duplicated`);
    }
  }
  return { value: root, edits };
}

/**
 * One to four blind edits of bytes: truncation, byte flips, a run of random bytes written or inserted. Edits fall
 * in the first `focus` bytes (a header) three times in four when `focus` is given.
 */
export function mutateBytes(bytes: Uint8Array, random: Random, focus = bytes.length): { bytes: Uint8Array; edits: string[] } {
  let out = Uint8Array.from(bytes);
  const edits: string[] = [];
  const count = 1 + Math.floor(random() * 4);
  const position = (length: number) => Math.floor(random() * (random() < 0.75 ? Math.min(focus, length) : length));
  for (let edit = 0; edit < count && out.length > 0; edit++) {
    const roll = random();
    const at = position(out.length);
    if (roll < 0.25) {
      out = out.slice(0, at);
      edits.push(`truncated to ${at} bytes`);
    } else if (roll < 0.7) {
      const bit = 1 << Math.floor(random() * 8);
      out[at] = out[at]! ^ bit;
      edits.push(`byte ${at} ^= ${bit}`);
    } else if (roll < 0.85) {
      const run = Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 256));
      out.set(run.slice(0, out.length - at), at);
      edits.push(`bytes at ${at} = ${run.join(',')}`);
    } else {
      const run = Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(random, [0x22, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x30, 0x39, 0xff, 0x00, 0xc3]));
      out = Uint8Array.from([...out.subarray(0, at), ...run, ...out.subarray(at)]);
      edits.push(`inserted ${run.join(',')} at ${at}`);
    }
  }
  return { bytes: out, edits };
}

/** A JSONL text mutated line by line (structure) or as bytes; lines dropped, repeated or added blank. */
export function mutateJsonLines(lines: readonly unknown[], random: Random): { text: string; edits: string[] } {
  if (random() < 0.3) {
    const { bytes, edits } = mutateBytes(new TextEncoder().encode(lines.map((line) => JSON.stringify(line)).join('\n')), random);
    return { text: new TextDecoder().decode(bytes), edits };
  }
  const edits: string[] = [];
  const out = lines.map((line, index) => {
    if (random() < 0.5) return JSON.stringify(line);
    const mutated = mutateJson(line, random);
    edits.push(...mutated.edits.map((edit) => `line ${index + 1}: ${edit}`));
    return JSON.stringify(mutated.value) ?? 'undefined';
  });
  if (random() < 0.2) { out.push('', '   '); edits.push('blank lines'); }
  return { text: out.join('\n'), edits };
}
