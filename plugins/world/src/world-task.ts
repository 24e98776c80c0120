// The built-in world's task language: prefix expressions of string and arithmetic operations over literals,
// e.g. `reverse abc` -> `cba`, `add 12 7` -> `19`, `upper reverse abc` -> `CBA`, `add 3 count hello` -> `8`.
// parseTask decides whether a text is a valid task (the world's quality signal) and measures its difficulty.
//
// Grammar (tokens separated by whitespace; operators have fixed arity, so no brackets are needed):
//   task       := operation                      (a bare literal is not a task)
//   expression := operation | word | number
//   operation  := reverse x | sort x | upper x | lower x | count x | repeat n x | add n n | mul n n
//   word       := [a-zA-Z]+ (not an operator name)      number := 0 | [1-9][0-9]*
// Types: count, add, mul and number literals are numbers; the others are text. Text operations take either
// (a number is its decimal digits); add and mul take numbers only; repeat's n must evaluate to 1..maxRepeat.

/** Operators, their arity and argument types ('number' arguments must be number-typed expressions). */
export const operations = {
  reverse: { arguments: ['any'], result: 'text' },
  sort: { arguments: ['any'], result: 'text' },
  upper: { arguments: ['any'], result: 'text' },
  lower: { arguments: ['any'], result: 'text' },
  count: { arguments: ['any'], result: 'number' },
  repeat: { arguments: ['number', 'any'], result: 'text' },
  add: { arguments: ['number', 'number'], result: 'number' },
  mul: { arguments: ['number', 'number'], result: 'number' },
} as const satisfies Record<string, { arguments: readonly ('any' | 'number')[]; result: 'text' | 'number' }>;

export type OperationName = keyof typeof operations;
export const operationNames = Object.keys(operations) as OperationName[];

export type Expression =
  | { kind: 'word'; text: string }
  | { kind: 'number'; text: string }
  | { kind: 'operation'; name: OperationName; arguments: Expression[] };

/** Limits that keep every valid task answerable in a few dozen tokens by a tiny model. */
export const worldLimits = {
  /** Tokens in a task. */
  maxTokens: 24,
  /** Characters of one word literal. */
  maxWordLength: 16,
  /** Digits of one number literal. */
  maxNumberDigits: 6,
  /** Characters of the answer and of every intermediate value. */
  maxValueLength: 40,
  /** Largest repeat count. */
  maxRepeat: 5,
  /** The difficulty levels; level maxLevel holds every task at least that difficult. */
  maxLevel: 5,
} as const;

export interface ParsedTask {
  expression: Expression;
  /** The expected answer, exactly. */
  answer: string;
  /** Operators in the task. */
  operations: number;
  /** Operators that change their input (a no-op such as `upper 7` or `repeat 1 x` does not count). */
  effectiveOperations: number;
  /** Longest chain of nested operators. */
  depth: number;
  /** Characters in all literals together. */
  literalCharacters: number;
  /**
   * effectiveOperations + floor((literalCharacters - 1) / 4): every operator that does something and every four
   * literal characters add one (longer inputs are harder to reverse, sort, count or multiply).
   */
  difficulty: number;
  /** difficulty clamped to 1..maxLevel: the level the held-out set and the metrics group by. */
  level: number;
  /** The task written canonically (single spaces). */
  canonical: string;
}

export type TaskParse = { valid: true; task: ParsedTask } | { valid: false; reason: string };

const wordPattern = /^[a-zA-Z]+$/;
const numberPattern = /^(0|[1-9][0-9]*)$/;

class TaskError extends Error {}

function isOperation(token: string): token is OperationName {
  return Object.hasOwn(operations, token);
}

/** Parses and evaluates a task text. Never throws: an invalid text gets a reason. */
export function parseTask(text: string): TaskParse {
  if (typeof text !== 'string') return { valid: false, reason: 'not a string' };
  const trimmed = text.trim();
  if (trimmed.length === 0) return { valid: false, reason: 'empty' };
  const badCharacter = /[^a-zA-Z0-9\s]/.exec(trimmed);
  if (badCharacter) return { valid: false, reason: `unexpected character "${badCharacter[0]}"` };
  const tokens = trimmed.split(/\s+/);
  if (tokens.length > worldLimits.maxTokens) return { valid: false, reason: `more than ${worldLimits.maxTokens} tokens` };
  if (!isOperation(tokens[0]!)) return { valid: false, reason: `a task starts with an operator, not "${tokens[0]}"` };
  try {
    let position = 0;
    const parse = (): Expression => {
      const token = tokens[position++];
      if (token === undefined) throw new TaskError('the task ends too early');
      if (isOperation(token)) {
        const argumentList: Expression[] = [];
        for (const expected of operations[token].arguments) {
          if (position >= tokens.length) {
            throw new TaskError(`${token} needs ${operations[token].arguments.length} argument${operations[token].arguments.length > 1 ? 's' : ''}`);
          }
          const argument = parse();
          if (expected === 'number' && resultType(argument) !== 'number') {
            throw new TaskError(`${token} needs a number, not "${render(argument)}"`);
          }
          argumentList.push(argument);
        }
        return { kind: 'operation', name: token, arguments: argumentList };
      }
      if (numberPattern.test(token)) {
        if (token.length > worldLimits.maxNumberDigits) throw new TaskError(`number ${token} has more than ${worldLimits.maxNumberDigits} digits`);
        return { kind: 'number', text: token };
      }
      if (wordPattern.test(token)) {
        if (token.length > worldLimits.maxWordLength) throw new TaskError(`word ${token} is longer than ${worldLimits.maxWordLength} letters`);
        return { kind: 'word', text: token };
      }
      throw new TaskError(`"${token}" is neither an operator, a word nor a number`);
    };
    const expression = parse();
    if (position < tokens.length) throw new TaskError(`unexpected "${tokens[position]}" after a complete task`);
    const { value: answer, effective } = analyse(expression);
    const operationsCount = countOperations(expression);
    const literalCharacters = countLiteralCharacters(expression);
    const difficulty = effective + Math.floor((literalCharacters - 1) / 4);
    return {
      valid: true,
      task: {
        expression,
        answer,
        operations: operationsCount,
        depth: depthOf(expression),
        literalCharacters,
        effectiveOperations: effective,
        difficulty,
        level: Math.min(Math.max(difficulty, 1), worldLimits.maxLevel),
        canonical: render(expression),
      },
    };
  } catch (error) {
    if (error instanceof TaskError) return { valid: false, reason: error.message };
    throw error;
  }
}

export function resultType(expression: Expression): 'text' | 'number' {
  if (expression.kind === 'operation') return operations[expression.name].result;
  return expression.kind === 'number' ? 'number' : 'text';
}

/** The canonical text of an expression. */
export function render(expression: Expression): string {
  if (expression.kind !== 'operation') return expression.text;
  return [expression.name, ...expression.arguments.map(render)].join(' ');
}

function checkLength(value: string, expression: Expression): string {
  if (value.length > worldLimits.maxValueLength) {
    throw new TaskError(`"${render(expression)}" gives ${value.length} characters, more than ${worldLimits.maxValueLength}`);
  }
  return value;
}

/** The answer of an expression; throws TaskError when a value leaves the limits. */
export function evaluate(expression: Expression): string {
  return analyse(expression).value;
}

/**
 * Evaluates an expression and counts its effective operators: reverse, sort, upper and lower count only when
 * they change their input and repeat only when it repeats more than once, so padding a task with no-ops
 * (`upper upper 7`) does not raise its difficulty.
 */
function analyse(expression: Expression): { value: string; effective: number } {
  if (expression.kind !== 'operation') return { value: expression.text, effective: 0 };
  const parts = expression.arguments.map(analyse);
  const below = parts.reduce((total, part) => total + part.effective, 0);
  const first = parts[0]!.value;
  const second = parts[1]?.value ?? '';
  const changes = (value: string) => ({ value, effective: below + (value === first ? 0 : 1) });
  switch (expression.name) {
    case 'reverse':
      return changes([...first].reverse().join(''));
    case 'sort':
      // By code unit: digits, then capitals, then small letters, the same on every machine.
      return changes([...first].sort().join(''));
    case 'upper':
      return changes(first.toUpperCase());
    case 'lower':
      return changes(first.toLowerCase());
    case 'count':
      return { value: String(first.length), effective: below + 1 };
    case 'repeat': {
      const times = Number(first);
      if (times < 1 || times > worldLimits.maxRepeat) {
        throw new TaskError(`repeat count ${times} is outside 1..${worldLimits.maxRepeat}`);
      }
      return { value: checkLength(second.repeat(times), expression), effective: below + (times > 1 ? 1 : 0) };
    }
    case 'add':
      return { value: checkLength(String(Number(first) + Number(second)), expression), effective: below + 1 };
    case 'mul': {
      // Products of six-digit numbers stay below 2^53, so doubles are exact; the length limit caps the rest.
      const product = Number(first) * Number(second);
      if (!Number.isSafeInteger(product)) throw new TaskError(`"${render(expression)}" is too large`);
      return { value: checkLength(String(product), expression), effective: below + 1 };
    }
  }
}

function countOperations(expression: Expression): number {
  if (expression.kind !== 'operation') return 0;
  return 1 + expression.arguments.reduce((total, argument) => total + countOperations(argument), 0);
}

function countLiteralCharacters(expression: Expression): number {
  if (expression.kind !== 'operation') return expression.text.length;
  return expression.arguments.reduce((total, argument) => total + countLiteralCharacters(argument), 0);
}

function depthOf(expression: Expression): number {
  if (expression.kind !== 'operation') return 0;
  return 1 + Math.max(...expression.arguments.map(depthOf));
}

/** Whether an answer is exactly right: surrounding whitespace is ignored, nothing else. */
export function isCorrectAnswer(task: ParsedTask, answer: string): boolean {
  return answer.trim() === task.answer;
}
