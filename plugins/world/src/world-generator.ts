// Seeded generation of the world's tasks at a chosen difficulty level: the held-out set, GRPO's prompt set, and
// the pretraining data of the world's small model (Solver examples with answers, Challenger examples of tasks).
import type { ChatMessage } from '@lsp/core';
import { InvalidInputError } from '@lsp/core';
import { createRandom, type Random } from './world-random';
import { operations, parseTask, render, worldLimits, type Expression, type OperationName, type ParsedTask } from './world-task';

/** What the Challenger is asked in the world: short and fixed, so a tiny model learns it from pretraining. */
export const worldChallengerPrompt = 'new task';

export function worldChallengerMessages(): ChatMessage[] {
  return [{ role: 'user', content: worldChallengerPrompt }];
}

const lowercase = 'abcdefghijklmnopqrstuvwxyz';
const numberOperations: readonly OperationName[] = ['count', 'add', 'mul'];
const allOperations = Object.keys(operations) as OperationName[];
/** Largest literal sizes the generator writes (the parser accepts more): they keep answers short. */
const generatedWordLength = 12;
const generatedDigits: Record<'add' | 'mul' | 'other', number> = { add: 4, mul: 3, other: 4 };

type Slot = { kind: 'word'; letters: 'lower' | 'upper' | 'mixed' } | { kind: 'number'; maxDigits: number } | { kind: 'times' };
type Shape = { kind: 'operation'; name: OperationName; arguments: Shape[] } | { kind: 'slot'; slot: Slot };

/** A random expression shape with `budget` operators whose result fits `required`. */
function randomShape(random: Random, required: 'any' | 'number', budget: number, parent?: OperationName): Shape {
  if (budget === 0) {
    if (required === 'number' || random.next() < 0.25) {
      const maxDigits = parent === 'add' ? generatedDigits.add : parent === 'mul' ? generatedDigits.mul : generatedDigits.other;
      return { kind: 'slot', slot: { kind: 'number', maxDigits } };
    }
    const letters = parent === 'lower' ? 'upper' : parent === 'upper' ? 'lower' : random.next() < 0.1 ? 'mixed' : 'lower';
    return { kind: 'slot', slot: { kind: 'word', letters } };
  }
  const name = random.pick(required === 'number' ? numberOperations : allOperations);
  const argumentTypes = operations[name].arguments;
  let remaining = budget - 1;
  const argumentShapes: Shape[] = argumentTypes.map((type, index) => {
    if (name === 'repeat' && index === 0) return { kind: 'slot', slot: { kind: 'times' } };
    const isLast = index === argumentTypes.length - 1;
    const share = isLast ? remaining : random.integer(0, remaining);
    remaining -= share;
    return randomShape(random, type, share, name);
  });
  return { kind: 'operation', name, arguments: argumentShapes };
}

function slotsOf(shape: Shape, into: Slot[] = []): Slot[] {
  if (shape.kind === 'slot') into.push(shape.slot);
  else shape.arguments.forEach((argument) => slotsOf(argument, into));
  return into;
}

function maxLength(slot: Slot): number {
  return slot.kind === 'word' ? generatedWordLength : slot.kind === 'number' ? slot.maxDigits : 1;
}

function randomWord(random: Random, length: number, letters: 'lower' | 'upper' | 'mixed'): string {
  for (;;) {
    let word = '';
    for (let index = 0; index < length; index++) {
      const letter = random.pick([...lowercase]);
      const capital = letters === 'upper' || (letters === 'mixed' && random.next() < 0.5);
      word += capital ? letter.toUpperCase() : letter;
    }
    // A word spelling an operator would parse as that operator.
    if (!Object.hasOwn(operations, word)) return word;
  }
}

function randomNumber(random: Random, digits: number): string {
  let text = String(digits === 1 ? random.integer(0, 9) : random.integer(1, 9));
  for (let index = 1; index < digits; index++) text += String(random.integer(0, 9));
  return text;
}

/** Fills a shape's literal slots with the given lengths, in order. */
function fill(random: Random, shape: Shape, lengths: number[]): Expression {
  if (shape.kind === 'operation') {
    return { kind: 'operation', name: shape.name, arguments: shape.arguments.map((argument) => fill(random, argument, lengths)) };
  }
  const length = lengths.shift()!;
  const slot = shape.slot;
  if (slot.kind === 'times') return { kind: 'number', text: String(random.integer(2, worldLimits.maxRepeat - 1)) };
  if (slot.kind === 'number') return { kind: 'number', text: randomNumber(random, length) };
  return { kind: 'word', text: randomWord(random, length, slot.letters) };
}

/** Splits `total` characters over the slots, each getting 1..its maximum; undefined when impossible. */
function splitCharacters(random: Random, slots: readonly Slot[], total: number): number[] | undefined {
  const lengths = slots.map(() => 1);
  let left = total - slots.length;
  if (left < 0 || left > slots.reduce((sum, slot) => sum + maxLength(slot) - 1, 0)) return undefined;
  while (left > 0) {
    const index = random.integer(0, slots.length - 1);
    if (lengths[index]! < maxLength(slots[index]!)) {
      lengths[index]!++;
      left--;
    }
  }
  return lengths;
}

/**
 * A random valid task of exactly `level` (1..maxLevel): picks an operator count, then the literal characters
 * that make difficulty = operators + floor((characters - 1) / 4) land on the level, and retries until the task
 * parses within the limits.
 */
export function generateTask(random: Random, level: number): ParsedTask {
  if (!Number.isInteger(level) || level < 1 || level > worldLimits.maxLevel) {
    throw new InvalidInputError(`world: level must be an integer in 1..${worldLimits.maxLevel}, got ${level}`);
  }
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const operatorCount = random.integer(1, Math.min(level, 3));
    const extra = level - operatorCount;
    // The top level holds everything at least that difficult, so its tasks may reach one step beyond.
    const top = level === worldLimits.maxLevel ? 4 * extra + 8 : 4 * extra + 4;
    const characters = random.integer(4 * extra + 1, top);
    const shape = randomShape(random, 'any', operatorCount);
    const slots = slotsOf(shape);
    const lengths = splitCharacters(random, slots, characters);
    if (!lengths) continue;
    const expression = fill(random, shape, lengths);
    const parsed = parseTask(render(expression));
    if (parsed.valid && parsed.task.level === level) return parsed.task;
  }
  throw new Error(`world: could not generate a task of level ${level}`);
}

export interface TaskListOptions {
  seed: number;
  count: number;
  /** Levels to draw from, uniformly (default every level). */
  levels?: readonly number[];
  /** Task texts to leave out (the held-out set). */
  exclude?: ReadonlySet<string>;
}

/** Distinct random tasks, levels drawn uniformly from `levels`. */
export function generateTasks(options: TaskListOptions): ParsedTask[] {
  const levels = options.levels ?? Array.from({ length: worldLimits.maxLevel }, (_, index) => index + 1);
  if (levels.length === 0) throw new InvalidInputError('world: no levels to generate tasks from');
  const random = createRandom(options.seed);
  const seen = new Set<string>();
  const tasks: ParsedTask[] = [];
  let misses = 0;
  while (tasks.length < options.count) {
    const task = generateTask(random, random.pick(levels));
    if (seen.has(task.canonical) || options.exclude?.has(task.canonical)) {
      // Low levels hold few distinct tasks; give up rather than loop forever when asked for more than exist.
      if (++misses > 100 * options.count + 10_000) {
        throw new InvalidInputError(`world: levels ${levels.join(', ')} hold fewer than ${options.count} distinct tasks`);
      }
      continue;
    }
    seen.add(task.canonical);
    tasks.push(task);
  }
  return tasks;
}
