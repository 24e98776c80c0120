// The Challenger prompts, the quality rubric prompt and the parser of its score, and each game's settings.
import { describe, expect, test } from 'bun:test';
import { worldChallengerPrompt } from '@lsp/world';
import gameLsp from './index';
import {
  challengerPresets, chatChallengerMessages, parseQualityScore, qualityCriteria, qualityJudgeMessages, templateEndMarker,
  templateStartMarker,
} from './game-prompts';
import { createGrpoGame } from './game-grpo';
import { challengerTaskFor, createSelfPlayGame } from './game-self-play';

describe('prompts', () => {
  test('the Challenger prompt: the world\'s short one by default', async () => {
    const world = await createSelfPlayGame('lsp');
    expect(world.challengerPrompt!({ iteration: 0, index: 3 })).toEqual([{ role: 'user', content: worldChallengerPrompt }]);
  });

  test('the chat Challenger prompt: background, ONE input for the task by filling the template between markers, remarks', () => {
    const [message] = chatChallengerMessages({ task: 'Poetry analysis', template: 'Poem: {poem}\nQuestion: {question}' });
    const text = message!.content;
    expect(message!.role).toBe('user');
    expect(text).toContain('(input, output)');
    expect(text).toContain("ONE input for the language task 'Poetry analysis'");
    expect(text).toContain('easy, intermediate, hard or noisy');
    expect(text).toContain('stress-test another language agent');
    expect(text).toContain('{placeholders}');
    expect(text).toContain(`${templateStartMarker}\nPoem: {poem}\nQuestion: {question}\n${templateEndMarker}`);
    for (const remark of ['no answer, no hints', 'language agent can do with text alone', 'Stop as soon as the template is filled', 'best judgement']) {
      expect(text).toContain(remark);
    }
    // Sections in the paper's order.
    expect(text.indexOf('Background')).toBeLessThan(text.indexOf('Your request'));
    expect(text.indexOf(templateEndMarker)).toBeLessThan(text.indexOf('Final remarks'));
    // Empty task and template (instruction following): the markers enclose nothing.
    expect(chatChallengerMessages({ task: '', template: '' })[0]!.content).toContain(`task ''.`);
    expect(chatChallengerMessages({ task: '', template: '' })[0]!.content).toContain(`${templateStartMarker}\n\n${templateEndMarker}`);
  });

  test('task and template options: a string for every query, presets, and the chat prompt they imply', async () => {
    const game = await createSelfPlayGame('lsp-zero', { task: 'Sentiment analysis', template: 'Review: {review}' });
    for (const index of [0, 1, 5]) {
      const text = game.challengerPrompt!({ iteration: 3, index })[0]!.content;
      expect(text).toContain("language task 'Sentiment analysis'");
      expect(text).toContain(`${templateStartMarker}\nReview: {review}\n${templateEndMarker}`);
    }
    const math = await createSelfPlayGame('lsp', { preset: 'mathematics' });
    expect(math.challengerPrompt!({ iteration: 1, index: 0 })[0]!.content).toContain("language task 'Pure & Applied Mathematics'");
    expect(math.settings.qualitySource).toBe('reference-model');
    const instructions = await createSelfPlayGame('lsp', { preset: 'instruction-following' });
    expect(instructions.challengerPrompt!({ iteration: 1, index: 0 })).toEqual(chatChallengerMessages({ task: '', template: '' }));
    expect(challengerPresets['instruction-following']).toEqual({ task: '', template: '' });
    // An explicit task or template wins over the preset's.
    const mixed = await createSelfPlayGame('lsp', { preset: 'mathematics', template: 'Problem: {problem}' });
    expect(mixed.challengerPrompt!({ iteration: 1, index: 0 })).toEqual(chatChallengerMessages({ task: 'Pure & Applied Mathematics', template: 'Problem: {problem}' }));
    // challengerPrompt 'chat' alone is instruction following.
    const chat = await createSelfPlayGame('lsp', { challengerPrompt: 'chat' });
    expect(chat.challengerPrompt!({ iteration: 0, index: 0 })).toEqual(chatChallengerMessages({ task: '', template: '' }));
  });

  test('lists are drawn per query with the seed: reproducible, every entry used, task and template drawn apart', async () => {
    const tasks = ['Riddles', 'Code review', 'Summarisation'];
    const templates = ['Text: {text}', 'Q: {question}'];
    const draws = (seed: number) => {
      const options = { task: tasks, template: templates, seed };
      return Array.from({ length: 40 }, (_, index) => challengerTaskFor(options, Math.floor(index / 8), index % 8));
    };
    expect(draws(7)).toEqual(draws(7));
    expect(draws(7)).not.toEqual(draws(8));
    const seen = draws(7);
    expect(new Set(seen.map(({ task }) => task))).toEqual(new Set(tasks));
    expect(new Set(seen.map(({ template }) => template))).toEqual(new Set(templates));
    expect(new Set(seen.map(({ task, template }) => `${task}|${template}`)).size).toBe(6);
    const game = await createSelfPlayGame('lsp', { task: tasks, template: templates, seed: 7 });
    seen.slice(0, 8).forEach((choice, index) => expect(game.challengerPrompt!({ iteration: 0, index })).toEqual(chatChallengerMessages(choice)));
  });

  test('bad task, template or preset options are refused with one line', async () => {
    const refusal = async (options: Record<string, unknown>) => {
      try {
        await createSelfPlayGame('lsp', options);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    expect(await refusal({ task: [] })).toMatch(/^game lsp: option "task"/);
    expect(await refusal({ template: 3 })).toMatch(/^game lsp: option "template"/);
    expect(await refusal({ preset: 'poetry' })).toMatch(/^game lsp: option "preset"/);
    expect(await refusal({ taskTypes: ['x'] })).toBe('game lsp: unknown option "taskTypes"');
    expect(await refusal({ challengerPrompt: 'world', task: 'x' })).toBe('game lsp: option "task" needs the chat Challenger prompt but challengerPrompt is \'world\'');
    for (const message of [await refusal({ task: [] }), await refusal({ challengerPrompt: 'world', preset: 'mathematics' })]) {
      expect(message.split('\n')).toHaveLength(1);
    }
  });

  test('the Solver sees the query alone as the user message', async () => {
    const game = await createSelfPlayGame('lsp-zero');
    expect(game.solverPrompt('reverse abc')).toEqual([{ role: 'user', content: 'reverse abc' }]);
  });

  test('the quality rubric: the pair, the seven binary criteria, a justification, then Calculation and Score tags', () => {
    const [message] = qualityJudgeMessages('Name three rivers.', 'Nile, Amazon, Danube.');
    const text = message!.content;
    expect(text).toContain('<instruction>\nName three rivers.\n</instruction>');
    expect(text).toContain('<response>\nNile, Amazon, Danube.\n</response>');
    expect(qualityCriteria).toHaveLength(7);
    qualityCriteria.forEach((criterion, index) => expect(text).toContain(`${index + 1}. ${criterion}`));
    expect(text).toContain('from 0 to 7');
    expect(text).toContain('justify');
    expect(text).toContain('<Calculation>');
    expect(text).toContain('<Score>');
    expect(text.indexOf('<Calculation>')).toBeLessThan(text.indexOf('<Score>'));
    // The format examples in the prompt parse: a model that follows them is read.
    expect(parseQualityScore('<Calculation>1 + 0 + 1 + 1 + 0 + 1 + 1 = 5</Calculation> <Score>5</Score>')).toEqual({ score: 5, parsed: true });
  });
});

describe('the quality score parser', () => {
  const read = (text: string) => parseQualityScore(text);
  const none = { score: 0, parsed: false };

  test('good replies', () => {
    expect(read('1. yes 2. yes 3. no ... <Calculation>1+1+0+1+1+0+1 = 5</Calculation>\n<Score>5</Score>')).toEqual({ score: 5, parsed: true });
    expect(read('<Score>0</Score>')).toEqual({ score: 0, parsed: true });
    expect(read('<score> 7 </SCORE>')).toEqual({ score: 7, parsed: true });
    expect(read('<Score>6/7</Score>')).toEqual({ score: 6, parsed: true });
    expect(read('<Score>\n3\n</Score>\n')).toEqual({ score: 3, parsed: true });
    // A quoted format or example before the verdict: the last tag is the verdict.
    expect(read('Total <Score>4</Score>. Again: <Score>4</Score>')).toEqual({ score: 4, parsed: true });
    expect(read('Format: <Score>N</Score>. Verdict <Score> 2 </Score>')).toEqual({ score: 2, parsed: true });
    expect(read('As asked, e.g. <Score>5</Score>: 1. yes 2. no <Score>1</Score>')).toEqual({ score: 1, parsed: true });
  });

  test('malformed replies count 0, unparsed', () => {
    expect(read('')).toEqual(none);
    expect(read('The score is 6.')).toEqual(none);
    expect(read('<Calculation>1+1+1 = 3</Calculation>')).toEqual(none);
    expect(read('<Score></Score>')).toEqual(none);
    expect(read('<Score>5.5</Score>')).toEqual(none);
    expect(read('<Score>5 points</Score>')).toEqual(none);
    expect(read('<Score>five</Score>')).toEqual(none);
    expect(read('<Score>Five</Score>')).toEqual(none);
    expect(read('<Score>5</Scor')).toEqual(none);
    expect(read('<Score>5 and then more text')).toEqual(none);
    expect(read('Score: 5')).toEqual(none);
    expect(read('<Score>N</Score>')).toEqual(none);
    expect(read(undefined as unknown as string)).toEqual(none);
  });

  test('a final tag cut off by the token budget is read; one left open mid-reply is not', () => {
    expect(read('... <Calculation>1+1+1+1+1+1+1 = 7</Calculation> <Score>7')).toEqual({ score: 7, parsed: true });
    expect(read('... <Score>2  \n')).toEqual({ score: 2, parsed: true });
    expect(read('<Score>2 <Score>3</Score>')).toEqual({ score: 3, parsed: true });
    expect(read('<Score>3</Score> then <Score>2 and more')).toEqual(none);
  });

  test('adversarial replies: out of range, several tags, tags inside the calculation', () => {
    expect(read('<Score>8</Score>')).toEqual(none);
    expect(read('<Score>70</Score>')).toEqual(none);
    expect(read('<Score>-1</Score>')).toEqual(none);
    expect(read('<Score>+5</Score>')).toEqual(none);
    expect(read('<Score>99999999999999999999</Score>')).toEqual(none);
    // Several tags: the last is the verdict (a response's planted tag, echoed first, does not win), and it must be valid.
    expect(read('The response says <Score>7</Score>, but my total is <Score>2</Score>')).toEqual({ score: 2, parsed: true });
    expect(read('first <Score>2</Score>, on reflection <Score>5</Score>')).toEqual({ score: 5, parsed: true });
    expect(read('<Score>3</Score><Score>eight</Score>')).toEqual(none);
    expect(read('<Score>3</Score><Score>9</Score>')).toEqual(none);
    // Whatever sits inside a closed calculation is working, not the verdict.
    expect(read('<Calculation>1+1 <Score>7</Score> +1 = 3</Calculation> <Score>3</Score>')).toEqual({ score: 3, parsed: true });
    expect(read('<Calculation><Score>7</Score></Calculation>')).toEqual(none);
    expect(read('<Calculation>a</Calculation><Score>1</Score><Calculation><Score>6</Score></Calculation>')).toEqual({ score: 1, parsed: true });
  });
});

describe('settings', () => {
  test('defaults are the paper\'s (N 8, beta 0.05, lr 3e-6, GRPO 1e-6) and ours where it has none', async () => {
    const lsp = await createSelfPlayGame('lsp');
    expect(lsp.settings).toEqual({
      queriesPerIteration: 8, answersPerQuery: 8, challengerWeight: 1, klCoefficient: 0.05, klEstimator: 'k1',
      klPlacement: 'loss', aggregation: 'sequence-mean', advantageNormalization: 'mean-centred', learningRate: 3e-6,
      temperature: 1, maxNewTokens: 64, gradientAccumulation: 1, qualitySource: 'judge', qualityMaxNewTokens: 256,
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
    expect(game.settings).toEqual({ ...options, qualitySource: 'reference-model', qualityMaxNewTokens: 256 } as typeof game.settings);
    const budget = await createSelfPlayGame('lsp', { qualityMaxNewTokens: 40 });
    expect(budget.settings.qualityMaxNewTokens).toBe(40);
  });

  test('the plugin contributes the three games', () => {
    const plugin = gameLsp();
    expect(plugin).toMatchObject({ name: '@lsp/game-lsp', specificationVersion: 'v1' });
    expect(plugin.games!.map((game) => game.name)).toEqual(['lsp', 'lsp-zero', 'grpo']);
  });
});
