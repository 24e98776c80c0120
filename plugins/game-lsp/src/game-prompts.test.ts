// The Challenger prompts, the quality rubric prompt and the parser of its score, and each game's settings.
import { describe, expect, test } from 'bun:test';
import { worldChallengerPrompt } from '@lsp/world';
import gameLsp from './index';
import { chatChallengerMessages, parseQualityScore, qualityJudgeMessages } from './game-prompts';
import { createGrpoGame } from './game-grpo';
import { createSelfPlayGame } from './game-self-play';

describe('prompts', () => {
  test('the Challenger prompt: the world\'s short one by default, the chat one by task type in turn', async () => {
    const world = await createSelfPlayGame('lsp');
    expect(world.challengerPrompt!({ iteration: 0, index: 3 })).toEqual([{ role: 'user', content: worldChallengerPrompt }]);
    const chat = await createSelfPlayGame('lsp-zero', { challengerPrompt: 'chat', taskTypes: ['a riddle', 'a coding question'] });
    expect(chat.challengerPrompt!({ iteration: 2, index: 0 })[0]!.content).toContain('a riddle');
    expect(chat.challengerPrompt!({ iteration: 2, index: 1 })[0]!.content).toContain('a coding question');
    expect(chat.challengerPrompt!({ iteration: 2, index: 2 })[0]!.content).toContain('a riddle');
    expect(chatChallengerMessages('x')[0]!.content).toContain('Include no answer');
  });

  test('the Solver sees the query alone as the user message', async () => {
    const game = await createSelfPlayGame('lsp-zero');
    expect(game.solverPrompt('reverse abc')).toEqual([{ role: 'user', content: 'reverse abc' }]);
  });

  test('the quality rubric holds the pair, the 2 + 5 points and the tag format', () => {
    const [message] = qualityJudgeMessages('Name three rivers.', 'Nile, Amazon, Danube.');
    expect(message!.content).toContain('<instruction>\nName three rivers.\n</instruction>');
    expect(message!.content).toContain('<answer>\nNile, Amazon, Danube.\n</answer>');
    expect(message!.content).toContain('The instruction (up to 2 points)');
    expect(message!.content).toContain('The answer (up to 5 points)');
    expect(message!.content.match(/^- Add 1 point/gm)).toHaveLength(7);
    expect(message!.content).toContain('<score>N</score>');
  });

  test('the score parser takes the last well-formed tag in 0..7, and anything else counts 0 unparsed', () => {
    expect(parseQualityScore('Points: 1 + 1 + 1. <score>3</score>')).toEqual({ score: 3, parsed: true });
    expect(parseQualityScore('<SCORE> 7 </Score>')).toEqual({ score: 7, parsed: true });
    expect(parseQualityScore('<score>0</score>')).toEqual({ score: 0, parsed: true });
    expect(parseQualityScore('first <score>2</score>, on reflection <score>5</score>')).toEqual({ score: 5, parsed: true });
    expect(parseQualityScore('The score is 6.')).toEqual({ score: 0, parsed: false });
    expect(parseQualityScore('<score>8</score>')).toEqual({ score: 0, parsed: false });
    expect(parseQualityScore('<score>5.5</score>')).toEqual({ score: 0, parsed: false });
    expect(parseQualityScore('<score>-1</score>')).toEqual({ score: 0, parsed: false });
    expect(parseQualityScore('')).toEqual({ score: 0, parsed: false });
  });
});

describe('settings', () => {
  test('defaults are the paper\'s (N 8, beta 0.05, lr 3e-6, GRPO 1e-6) and ours where it has none', async () => {
    const lsp = await createSelfPlayGame('lsp');
    expect(lsp.settings).toEqual({
      queriesPerIteration: 8, answersPerQuery: 8, challengerWeight: 1, klCoefficient: 0.05, klEstimator: 'k1',
      klPlacement: 'loss', aggregation: 'sequence-mean', advantageNormalization: 'mean-centred', learningRate: 3e-6,
      temperature: 1, maxNewTokens: 64, gradientAccumulation: 1, qualitySource: 'judge',
    });
    expect(lsp.roles).toEqual(['challenger', 'solver']);
    expect(lsp.usesQualityReward).toBe(true);
    expect(typeof lsp.qualityJudgePrompt).toBe('function');
    const zero = await createSelfPlayGame('lsp-zero');
    expect(zero.usesQualityReward).toBe(false);
    expect(zero.settings.qualitySource).toBeUndefined();
    expect(zero.qualityJudgePrompt).toBeUndefined();
    const grpo = await createGrpoGame({ datasetSize: 10 });
    expect(grpo.settings.learningRate).toBe(1e-6);
    expect(grpo.settings.challengerWeight).toBe(0);
    expect(grpo.roles).toEqual(['solver']);
    expect(grpo.challengerPrompt).toBeUndefined();
  });

  test('every option is taken by name', async () => {
    const options = {
      queriesPerIteration: 4, answersPerQuery: 6, challengerWeight: 0.5, klCoefficient: 0.1, klEstimator: 'k3',
      klPlacement: 'reward', aggregation: 'token-mean', advantageNormalization: 'standard-deviation', learningRate: 1e-5,
      temperature: 0.7, maxNewTokens: 32, gradientAccumulation: 2,
    };
    const game = await createSelfPlayGame('lsp', { ...options, challengerPrompt: 'chat' });
    expect(game.settings).toEqual({ ...options, qualitySource: 'reference-model' } as typeof game.settings);
  });

  test('the plugin contributes the three games', () => {
    const plugin = gameLsp();
    expect(plugin).toMatchObject({ name: '@lsp/game-lsp', specificationVersion: 'v1' });
    expect(plugin.games!.map((game) => game.name)).toEqual(['lsp', 'lsp-zero', 'grpo']);
  });
});
