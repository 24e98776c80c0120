// Curricula: written and named stages parse, malformed ones are refused in one line naming the stage, and the
// pretraining batches draw their examples' levels from the stage in force at each step.
import { afterAll, describe, expect, test } from 'bun:test';
import { loadTokenizer } from '@lsp/tokenizer-wasm';
import { builtinModelDirectory } from '@lsp/world';
import { parseCurriculum, stageAt, describeCurriculum, stagedCurriculum, checkCurriculum } from './pretrain-curriculum';
import { pretrainingBatches } from './pretrain-data';

describe('parseCurriculum', () => {
  test('written stages, with and without Challenger levels', () => {
    expect(parseCurriculum('0:1; 0.25:1,2,2/1,2,3 ;0.5:3')).toEqual([
      { from: 0, solverLevels: [1] },
      { from: 0.25, solverLevels: [1, 2, 2], challengerLevels: [1, 2, 3] },
      { from: 0.5, solverLevels: [3] },
    ]);
  });

  test('a name gives a copy of the named curriculum', () => {
    const staged = parseCurriculum('staged');
    expect(staged).toEqual(stagedCurriculum.map((stage) => ({ ...stage })));
    staged[0]!.solverLevels.push(5);
    expect(stagedCurriculum[0]!.solverLevels).toEqual([1]);
    expect(parseCurriculum('single')).toEqual([{ from: 0, solverLevels: [1, 2] }]);
  });

  test('malformed stages are refused in one line naming the stage', () => {
    const cases: [string, string][] = [
      ['', 'no stages'],
      ['0.1:1', 'the first stage must start at 0'],
      ['0:1;0.5:2;0.5:3', 'stage 3 starts at 0.5, not after stage 2'],
      ['0:1;1:2', 'stage 2 starts at 1, outside [0, 1)'],
      ['0:1;x:2', 'stage 2: "x" is not a number'],
      ['0:1,6', 'stage 1: level "6" is not a whole number in 1..5'],
      ['0:1,,2', 'stage 1 has an empty level list'],
      ['0:2/0', 'stage 1: level "0" is not a whole number in 1..5'],
      ['0-1', 'stage 1 "0-1" is not FROM:LEVELS'],
      ['hard', 'stage 1 "hard" is not FROM:LEVELS'],
    ];
    for (const [text, message] of cases) {
      expect(() => parseCurriculum(text)).toThrow(`--curriculum: ${message}`);
    }
    // What a damaged pretrain.json could hold.
    expect(() => checkCurriculum([{ from: 0, solverLevels: [1.5] }], 'pretrain.json: settings.curriculum')).toThrow('level 1.5 is not a whole number');
    expect(() => checkCurriculum([{ from: 0 } as never], 'f')).toThrow('f: stage 1 is not {from, solverLevels');
  });
});

describe('stages over a run', () => {
  const stages = parseCurriculum('0:1;0.25:2/4;0.5:3,5');
  test('stageAt switches at the stage fractions of the planned steps', () => {
    expect([0, 24, 25, 49, 50, 99].map((step) => stageAt(stages, step, 100).solverLevels)).toEqual([[1], [1], [2], [2], [3, 5], [3, 5]]);
    expect(describeCurriculum(stages, 100)).toBe(
      'steps 0-24: solver levels 1; challenger 1,2,3\nsteps 25-49: solver levels 2; challenger 4\nsteps 50-99: solver levels 3,5; challenger 1,2,3',
    );
  });

  const tokenizerPromise = loadTokenizer(builtinModelDirectory());
  afterAll(async () => (await tokenizerPromise).dispose());

  test("the batches draw each role's levels from the stage in force", async () => {
    const tokenizer = await tokenizerPromise;
    // Pools of 8 batches: steps 0-7 stage 1, 8-15 stage 2 (starts at 8), 16-31 stage 3 (starts at 16).
    const batches = pretrainingBatches(tokenizer, { seed: 3, batchSize: 16, curriculum: { stages, steps: 32 } });
    const levels = (role: 'solver' | 'challenger', from: number, to: number, all: ReturnType<typeof take>) =>
      new Set(all.slice(from, to).flat().filter((example) => example.role === role).map((example) => example.level));
    const take = () => Array.from({ length: 32 }, () => batches.next().value!);
    const all = take();
    expect([...levels('solver', 0, 8, all)]).toEqual([1]);
    expect([...levels('challenger', 0, 8, all)].sort()).toEqual([1, 2, 3]);
    expect([...levels('solver', 8, 16, all)]).toEqual([2]);
    expect([...levels('challenger', 8, 16, all)]).toEqual([4]);
    expect([...levels('solver', 16, 32, all)].sort()).toEqual([3, 5]);
  });
});
