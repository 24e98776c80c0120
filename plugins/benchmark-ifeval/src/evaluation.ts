// Strict and loose evaluation of one response, and the figures over many, as the reference's evaluation_lib does:
// strict checks the response as it is; loose also tries the response without its first line, without its last
// line, without both, and each of the four with every '*' removed, and counts an instruction as followed when any
// of them follows it. A response that is empty (or only whitespace) follows nothing.
import { instructionRegistry } from './instructions';
import type { IfevalInstruction, IfevalPrompt } from './input';
import { pyStrip } from './python-text';

export interface InstructionResult {
  id: string;
  kwargs: IfevalInstruction['kwargs'];
  strict: boolean;
  loose: boolean;
}

export interface IfevalEvaluation {
  key: number | string;
  /** Every instruction followed strictly (the prompt-level strict result). */
  promptStrict: boolean;
  /** Every instruction followed loosely. */
  promptLoose: boolean;
  instructions: InstructionResult[];
}

/**
 * The responses loose evaluation tries, in the reference's order: the response, it without '*', without its
 * first line, without its last line, without both, and those three without '*'. Removed lines leave the rest
 * stripped of surrounding whitespace.
 */
export function looseVariants(response: string): string[] {
  const lines = response.split('\n');
  const withoutFirst = pyStrip(lines.slice(1).join('\n'));
  const withoutLast = pyStrip(lines.slice(0, -1).join('\n'));
  const withoutBoth = pyStrip(lines.slice(1, -1).join('\n'));
  const unstarred = (text: string) => text.replaceAll('*', '');
  return [
    response, unstarred(response), withoutFirst, withoutLast, withoutBoth,
    unstarred(withoutFirst), unstarred(withoutLast), unstarred(withoutBoth),
  ];
}

async function follows(instruction: IfevalInstruction, response: string): Promise<boolean> {
  if (pyStrip(response) === '') return false;
  return instructionRegistry.get(instruction.id)!.check(response, instruction.kwargs);
}

/** Checks one response against every instruction of its prompt, strictly and loosely. */
export async function evaluatePrompt(prompt: IfevalPrompt, response: string): Promise<IfevalEvaluation> {
  const variants = looseVariants(response);
  const instructions: InstructionResult[] = [];
  for (const instruction of prompt.instructions) {
    const strict = await follows(instruction, response);
    let loose = strict;
    for (let index = 1; !loose && index < variants.length; index++) loose = await follows(instruction, variants[index]!);
    instructions.push({ id: instruction.id, kwargs: instruction.kwargs, strict, loose });
  }
  return {
    key: prompt.key,
    promptStrict: instructions.every((result) => result.strict),
    promptLoose: instructions.every((result) => result.loose),
    instructions,
  };
}

interface Tally {
  strict: number;
  loose: number;
  count: number;
}

function mean<T>(values: readonly T[], of: (value: T) => number): number {
  return values.reduce((sum, value) => sum + of(value), 0) / values.length;
}

/**
 * The figures over items, each item given as the evaluations of its answers (one, or one per sample; an item's
 * results are averaged over its answers first):
 * - `overall` and `prompt_strict`: the fraction of prompts whose instructions are all followed strictly;
 * - `prompt_loose`: the same, loosely;
 * - `instruction_strict`, `instruction_loose`: the fraction of all instructions followed;
 * - `by_family/<family>/strict|loose` (e.g. `by_family/keywords/strict`) and `by_id/<id>/strict|loose`
 *   (e.g. `by_id/keywords:existence/loose`): the fraction of that family's or id's instructions followed.
 * Items with no answer are skipped; instruction figures are left out when there are no instructions.
 */
export function ifevalFigures(items: readonly (readonly IfevalEvaluation[])[]): Record<string, number> {
  const answered = items.filter((evaluations) => evaluations.length > 0);
  const promptStrict = answered.length > 0 ? mean(answered, (evaluations) => mean(evaluations, (e) => Number(e.promptStrict))) : 0;
  const promptLoose = answered.length > 0 ? mean(answered, (evaluations) => mean(evaluations, (e) => Number(e.promptLoose))) : 0;
  const figures: Record<string, number> = { overall: promptStrict, prompt_strict: promptStrict, prompt_loose: promptLoose };

  const total: Tally = { strict: 0, loose: 0, count: 0 };
  const byFamily = new Map<string, Tally>();
  const byId = new Map<string, Tally>();
  const add = (map: Map<string, Tally>, key: string, strict: number, loose: number) => {
    const tally = map.get(key) ?? { strict: 0, loose: 0, count: 0 };
    tally.strict += strict;
    tally.loose += loose;
    tally.count++;
    map.set(key, tally);
  };
  for (const evaluations of answered) {
    const first = evaluations[0]!;
    first.instructions.forEach(({ id }, index) => {
      const strict = mean(evaluations, (e) => Number(e.instructions[index]?.strict ?? false));
      const loose = mean(evaluations, (e) => Number(e.instructions[index]?.loose ?? false));
      total.strict += strict;
      total.loose += loose;
      total.count++;
      add(byFamily, id.split(':')[0]!, strict, loose);
      add(byId, id, strict, loose);
    });
  }
  if (total.count > 0) {
    figures.instruction_strict = total.strict / total.count;
    figures.instruction_loose = total.loose / total.count;
  }
  for (const [prefix, map] of [['by_family', byFamily], ['by_id', byId]] as const) {
    for (const key of [...map.keys()].sort()) {
      const tally = map.get(key)!;
      figures[`${prefix}/${key}/strict`] = tally.strict / tally.count;
      figures[`${prefix}/${key}/loose`] = tally.loose / tally.count;
    }
  }
  return figures;
}
