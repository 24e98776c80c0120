// Judge reward-model against transformers: the fixture (reference/make_fixture.py) is a tiny random
// LlamaForSequenceClassification with the Llama 3 tokenizer and chat template, and reference.json holds the ids
// apply_chat_template(tokenize=True) gives and the scores transformers computes in float64 and float32.
import { afterAll, describe, expect, test } from 'bun:test';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendV1 } from '@lsp/core';
import { createOracleDevice } from '@lsp/oracle';
import judgeRewardModel, { createRewardModelJudge, type RewardModelJudge } from './index';
import { assembleFolder, readReference, rewardModelFolder } from './test-support';

const reference = readReference();
const folders: string[] = [];
const judges: RewardModelJudge[] = [];
afterAll(() => {
  for (const judge of judges) judge.dispose();
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function folder(make: () => string = rewardModelFolder): string {
  const made = make();
  folders.push(made);
  return made;
}

async function judgeOf(options: Record<string, unknown>, backends?: readonly BackendV1[]): Promise<RewardModelJudge> {
  const judge = await createRewardModelJudge(options, backends ? { backends } : {});
  judges.push(judge);
  return judge;
}

const oracleBackend: BackendV1 = {
  specificationVersion: 'v1', name: 'oracle', priority: 0,
  checkAvailability: async () => ({ available: true }),
  createDevice: async () => createOracleDevice(),
};

// As packages/model/src/parity.test.ts: the float64 oracle agrees with transformers in float64 to float32 rounding,
// and every backend with transformers in float32 to what float32 accumulates through two layers.
const toFloat64Reference = 5e-6;
const toFloat32Reference = 1e-5;

const modelFolder = folder();
const items = reference.items.map(({ query, answer }) => ({ query, answer }));

describe('judge reward-model matches transformers', () => {
  test('the chat template and tokenization are apply_chat_template(tokenize=True)\'s', async () => {
    const judge = await judgeOf({ model: modelFolder });
    for (const item of reference.items) expect(judge.encode(item)).toEqual(item.input_ids);
  });

  for (const [name, backends, toFloat64] of [
    ['oracle (float64)', [oracleBackend], toFloat64Reference],
    ['wasm', undefined, toFloat32Reference],
  ] as const) {
    test(`scores in batches on ${name}`, async () => {
      // batchSize 4: six items of different lengths make a batch of 4 and one of 2, padded inside the model.
      const judge = await judgeOf({ model: modelFolder, batchSize: 4 }, backends);
      const scores = await judge.doScore(items, {});
      expect(scores).toHaveLength(items.length);
      let worst64 = 0;
      let worst32 = 0;
      scores.forEach((score, index) => {
        const expected = reference.items[index]!;
        expect(score.details?.raw).toBe(score.score);
        worst64 = Math.max(worst64, Math.abs(score.score - expected.score_float64));
        worst32 = Math.max(worst32, Math.abs(score.score - expected.score_float32), Math.abs(score.score - expected.score_float32_batched));
      });
      console.log(`reward-model on ${name}: max |score - transformers| float64 ${worst64.toExponential(2)}, float32 ${worst32.toExponential(2)}`);
      expect(worst64).toBeLessThan(toFloat64);
      expect(worst32).toBeLessThan(toFloat32Reference);
      // One at a time gives the same scores: batching does not change a sequence's score.
      const single = await judgeOf({ model: modelFolder, batchSize: 1 }, backends);
      const alone = await single.rawScores(items);
      alone.forEach((value, index) => expect(Math.abs(value - scores[index]!.score)).toBeLessThan(1e-6));
    });
  }

  test('center and scale: score = (raw - center) * scale, the raw score kept in details', async () => {
    const judge = await judgeOf({ model: modelFolder, center: 0.2, scale: 10 }, [oracleBackend]);
    const scores = await judge.doScore(items.slice(0, 3), {});
    scores.forEach((score, index) => {
      const raw = score.details!.raw as number;
      expect(Math.abs(raw - reference.items[index]!.score_float64)).toBeLessThan(toFloat64Reference);
      expect(score.score).toBeCloseTo((raw - 0.2) * 10, 10);
    });
    expect(await judge.doScore([], {})).toEqual([]);
  });

  test('a chat_template.jinja beside tokenizer_config.json is the template used', async () => {
    const jinjaFolder = folder();
    const configPath = join(jinjaFolder, 'tokenizer_config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(join(jinjaFolder, 'chat_template.jinja'), config.chat_template as string);
    delete config.chat_template;
    writeFileSync(configPath, JSON.stringify(config));
    const judge = await judgeOf({ model: jinjaFolder }, [oracleBackend]);
    expect(judge.encode(reference.items[0]!)).toEqual(reference.items[0]!.input_ids);
  });

  test('the plugin contributes judge reward-model', () => {
    expect(judgeRewardModel().judges?.map((judge) => judge.name)).toEqual(['reward-model']);
  });
});

describe('judge reward-model refuses bad input in one line', () => {
  const refusal = async (options: unknown, pattern: RegExp) => {
    let message = '';
    try {
      judges.push(await createRewardModelJudge(options, { backends: [oracleBackend] }));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
  };
  const modelFixtures = join(import.meta.dir, '..', '..', '..', 'packages', 'model', 'fixtures');

  test('a folder without a score head', () =>
    refusal({ model: folder(() => assembleFolder(join(modelFixtures, 'mistral-f32'), 'llama3')) }, /^judge reward-model: .* has no score head/));
  test('a folder without a chat template', () =>
    refusal({ model: folder(() => assembleFolder(join(modelFixtures, 'llama-reward'), 'llama2')) }, /^judge reward-model: .* has no chat template/));
  test('a folder that does not exist', () => refusal({ model: '/nonexistent/reward' }, /^judge reward-model: the model folder \/nonexistent\/reward does not exist/));
  test('no model', () => refusal({}, /^judge reward-model: option "model" is required/));
  test('an unknown option', () => refusal({ model: modelFolder, temperature: 1 }, /^judge reward-model: unknown option "temperature"/));
  test('a bad batch size', () => refusal({ model: modelFolder, batchSize: 0 }, /^judge reward-model: option "batchSize"/));
  test('a backend it does not have', () => refusal({ model: modelFolder, backend: 'webgpu' }, /^judge reward-model: backend "webgpu" is not one this judge can use \(oracle\)/));
});
