// The shipped world model (plugins/world/model): it loads, its chat template renders the game's prompts, and its
// greedy Solver and sampled Challenger are as good as measured when it was made (floors a little below those).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createWasmDevice, type WasmDevice } from '@lsp/backend-wasm';
import { loadModel, type LlamaModel } from '@lsp/model';
import { loadTokenizer, type WasmTokenizer } from '@lsp/tokenizer-wasm';
import { builtinModelDirectory } from '@lsp/world';
import { evaluateHeldOut, sampleChallenger } from './pretrain-evaluate';

const directory = builtinModelDirectory();
/**
 * Floors below what the shipped model measured (pretrain.json: 27 of 40 level-1 items right, 68%; 92% of 64
 * Challenger samples valid), with room for rounding differences between machines, not for a worse model.
 */
const LEVEL_ONE_FLOOR = 0.6;
const CHALLENGER_VALID_FLOOR = 0.8;
let device: WasmDevice;
let tokenizer: WasmTokenizer;
let model: LlamaModel;

beforeAll(async () => {
  device = await createWasmDevice({ threads: 2 });
  tokenizer = await loadTokenizer(directory);
  model = await loadModel(directory, { device, tokenizer });
});

afterAll(() => {
  model?.dispose();
  tokenizer?.dispose();
  device?.dispose();
});

describe('the built-in world model', () => {
  test('is a complete folder of at most 5 MB', () => {
    const files = readdirSync(directory);
    for (const file of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'pretrain.json']) expect(files).toContain(file);
    const bytes = files.reduce((sum, file) => sum + statSync(join(directory, file)).size, 0);
    expect(bytes).toBeLessThanOrEqual(5 * 1024 * 1024);
    const report = JSON.parse(readFileSync(join(directory, 'pretrain.json'), 'utf8'));
    expect(report.parameters).toBeGreaterThanOrEqual(500_000);
    expect(report.parameters).toBeLessThanOrEqual(10_000_000);
  });

  test('renders the chat format and stops on its end-of-turn token', async () => {
    expect(tokenizer.applyChatTemplate([{ role: 'user', content: 'new task' }], { addGenerationPrompt: true }))
      .toBe('<|bos|><|user|>new task<|end|><|assistant|>');
    const eos = tokenizer.tokenToId('<|end|>')!;
    expect(model.eosTokenIds.has(eos)).toBe(true);
    const prompt = tokenizer.encode(tokenizer.applyChatTemplate([{ role: 'user', content: 'upper abc' }], { addGenerationPrompt: true }), { addSpecialTokens: false });
    const [result] = await model.generate([{ promptIds: prompt }], { maxNewTokens: 48, temperature: 0 });
    expect(result!.finishReason).toBe('eos');
    expect(result!.completionIds.at(-1)).toBe(eos);
  });

  test('solves easy held-out tasks greedily, and leaves the hardest level room to improve', async () => {
    const { scores } = await evaluateHeldOut(model, tokenizer, { levels: [1, 5] });
    // Measured when the model was made: see pretrain.json (heldOut.scores).
    expect(scores['level-1']).toBeGreaterThanOrEqual(LEVEL_ONE_FLOOR);
    expect(scores['level-5']).toBeLessThan(scores['level-1']!);
    expect(scores['level-5']).toBeLessThanOrEqual(0.5);
  }, 60_000);

  test('writes valid world tasks as Challenger most of the time', async () => {
    const sampled = await sampleChallenger(model, tokenizer, { count: 32, temperature: 1, seed: 11 });
    expect(sampled.validFraction).toBeGreaterThanOrEqual(CHALLENGER_VALID_FLOOR);
  }, 60_000);
});
