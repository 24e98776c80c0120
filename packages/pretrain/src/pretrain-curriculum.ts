// A pretraining curriculum: which task levels the Solver's and the Challenger's examples are drawn from at each
// stage of a run, so the model learns each operation on short inputs before longer inputs and compositions.
// Stages start at fractions of the run's planned steps, which keeps the data a function of the step alone (a
// resumed run replays it exactly).
import { InvalidInputError } from '@lsp/core';
import { worldLimits } from '@lsp/world';

export interface CurriculumStage {
  /** Fraction of the planned steps at which this stage starts, in [0, 1); the first stage starts at 0. */
  from: number;
  /** Levels of the Solver's examples, drawn uniformly from the list: a level listed twice is drawn twice as often. */
  solverLevels: number[];
  /** Levels of the Challenger's examples (the world's default, 1-3, when absent). */
  challengerLevels?: number[];
}

/** Without a curriculum: the Solver on levels 1-2 throughout (what the shipped 0.89M model was trained on). */
export const singleStage: readonly CurriculumStage[] = [{ from: 0, solverLevels: [1, 2] }];

/**
 * `staged`: single operations on short inputs first, then longer inputs and two operations, then everything up to
 * the top level, easy levels kept in the mix so they are not forgotten and the middle levels weighted most.
 */
export const stagedCurriculum: readonly CurriculumStage[] = [
  { from: 0, solverLevels: [1], challengerLevels: [1, 2] },
  { from: 0.1, solverLevels: [1, 2, 2], challengerLevels: [1, 2, 3] },
  { from: 0.3, solverLevels: [1, 2, 2, 3, 3], challengerLevels: [1, 2, 3, 4] },
  { from: 0.55, solverLevels: [1, 2, 2, 3, 3, 3, 4, 4, 5], challengerLevels: [1, 2, 3, 4, 5] },
];

export const namedCurricula: Record<string, readonly CurriculumStage[]> = { single: singleStage, staged: stagedCurriculum };

function fail(source: string, what: string): never {
  throw new InvalidInputError(`${source}: ${what}`, {
    hint: `write stages as FROM:LEVELS[/CHALLENGER_LEVELS] separated by ";" (e.g. "0:1;0.2:1,2,2/1,2,3"), or name one of ${Object.keys(namedCurricula).join(', ')}`,
  });
}

function parseLevels(source: string, stage: number, text: string): number[] {
  const levels = text.split(',').map((part) => part.trim());
  if (levels.length === 0 || levels.some((level) => level === '')) fail(source, `stage ${stage} has an empty level list "${text}"`);
  return levels.map((level) => {
    const value = Number(level);
    if (!/^[0-9]+$/.test(level) || value < 1 || value > worldLimits.maxLevel) {
      fail(source, `stage ${stage}: level "${level}" is not a whole number in 1..${worldLimits.maxLevel}`);
    }
    return value;
  });
}

/** A curriculum from its name or its written stages; one line naming `source` when it is malformed. */
export function parseCurriculum(text: string, source = '--curriculum'): CurriculumStage[] {
  const named = namedCurricula[text.trim()];
  if (named) return named.map((stage) => ({ ...stage, solverLevels: [...stage.solverLevels], ...(stage.challengerLevels ? { challengerLevels: [...stage.challengerLevels] } : {}) }));
  const parts = text.split(';').map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) fail(source, 'no stages');
  const stages = parts.map((part, index): CurriculumStage => {
    const match = /^([^:]+):([^/]*)(?:\/(.*))?$/.exec(part);
    if (!match) fail(source, `stage ${index + 1} "${part}" is not FROM:LEVELS[/CHALLENGER_LEVELS]`);
    const from = Number(match[1]!.trim());
    if (!Number.isFinite(from)) fail(source, `stage ${index + 1}: "${match[1]}" is not a number`);
    const solverLevels = parseLevels(source, index + 1, match[2]!);
    return { from, solverLevels, ...(match[3] !== undefined ? { challengerLevels: parseLevels(source, index + 1, match[3]) } : {}) };
  });
  return checkCurriculum(stages, source);
}

/** Checks stages read from a file or given in code: starts at 0, increasing, every fraction below 1, levels valid. */
export function checkCurriculum(stages: readonly CurriculumStage[], source: string): CurriculumStage[] {
  if (!Array.isArray(stages) || stages.length === 0) fail(source, 'no stages');
  stages.forEach((stage, index) => {
    if (typeof stage !== 'object' || stage === null || typeof stage.from !== 'number' || !Array.isArray(stage.solverLevels)) {
      fail(source, `stage ${index + 1} is not {from, solverLevels[, challengerLevels]}`);
    }
    if (!(stage.from >= 0 && stage.from < 1)) fail(source, `stage ${index + 1} starts at ${stage.from}, outside [0, 1)`);
    if (index === 0 && stage.from !== 0) fail(source, `the first stage must start at 0, not ${stage.from}`);
    if (index > 0 && !(stage.from > stages[index - 1]!.from)) fail(source, `stage ${index + 1} starts at ${stage.from}, not after stage ${index}`);
    for (const levels of [stage.solverLevels, stage.challengerLevels ?? [1]]) {
      if (!Array.isArray(levels) || levels.length === 0) fail(source, `stage ${index + 1} has an empty level list`);
      for (const level of levels) {
        if (!Number.isInteger(level) || level < 1 || level > worldLimits.maxLevel) {
          fail(source, `stage ${index + 1}: level ${JSON.stringify(level)} is not a whole number in 1..${worldLimits.maxLevel}`);
        }
      }
    }
  });
  return stages.map((stage) => ({ ...stage }));
}

/** The stage in force at `step` (0-based) of a run of `steps`. */
export function stageAt(stages: readonly CurriculumStage[], step: number, steps: number): CurriculumStage {
  let current = stages[0]!;
  for (const stage of stages) if (step >= stage.from * steps) current = stage;
  return current;
}

/** One line per stage, for the run's notes: `steps 0-749: solver levels 1; challenger 1,2`. */
export function describeCurriculum(stages: readonly CurriculumStage[], steps: number): string {
  return stages.map((stage, index) => {
    const first = Math.ceil(stage.from * steps);
    const last = index + 1 < stages.length ? Math.ceil(stages[index + 1]!.from * steps) - 1 : steps - 1;
    return `steps ${first}-${last}: solver levels ${stage.solverLevels.join(',')}; challenger ${(stage.challengerLevels ?? [1, 2, 3]).join(',')}`;
  }).join('\n');
}
