// The pretraining pipeline end to end on a tiny model: the loss falls, the folder appears only when finished,
// it loads, its tokenizer round-trips world text, and its prompts are the ones the games give the model.
import { afterAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWasmDevice } from '@lsp/backend-wasm';
import { createSelfPlayGame } from '@lsp/game-lsp';
import { loadModel } from '@lsp/model';
import { loadTokenizer } from '@lsp/tokenizer-wasm';
import { generatePretrainingExamples, worldChallengerMessages } from '@lsp/world';
import { encodeExample, promptIds } from './pretrain-data';
import { learningRateAt } from './pretrain-schedule';
import { pretrainCheckpointDirectory, readPretrainCheckpoint, readPretrainSettings, runPretraining, type PretrainReport } from './pretrain-run';

const root = mkdtempSync(join(tmpdir(), 'lsp-pretrain-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('runPretraining on a tiny model', () => {
  const out = join(root, 'model');
  let report: PretrainReport;

  test('trains with a falling loss and writes the folder in one rename', async () => {
    const device = await createWasmDevice({ threads: 2 });
    try {
      report = (await runPretraining({
        outDirectory: out, device, steps: 60, seed: 5, batchSize: 16, learningRate: 3e-3, progressSeconds: 0,
        shape: { hiddenSize: 32, layers: 1, heads: 2, intermediateSize: 64, contextLength: 256 },
        evaluate: true, heldOutPerLevel: 2,
      }))!;
    } finally {
      device.dispose();
    }
    // One progress entry per step (progressSeconds 0): compare the mean of the first and last ten.
    const mean = (entries: { loss: number }[]) => entries.reduce((sum, entry) => sum + entry.loss, 0) / entries.length;
    expect(report.losses.length).toBe(60);
    expect(mean(report.losses.slice(-10))).toBeLessThan(mean(report.losses.slice(0, 10)) - 0.5);
    expect(report.steps).toBe(60);
    expect(report.heldOut!.scores['level-1']).toBeGreaterThanOrEqual(0);
    expect(report.challenger!.map((samples) => samples.samples.length)).toEqual([1, 64]);
    // Nothing but the finished folder is left beside it.
    expect(readdirSync(root)).toEqual(['model']);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors', 'pretrain.json', 'tokenizer.json', 'tokenizer_config.json']);
    expect(JSON.parse(readFileSync(join(out, 'pretrain.json'), 'utf8')).steps).toBe(60);
  }, 60_000);

  test('the folder loads, its tokenizer round-trips world text and its template renders the chat format', async () => {
    const tokenizer = await loadTokenizer(out);
    const device = await createWasmDevice({ threads: 1 });
    try {
      const model = await loadModel(out, { device, tokenizer });
      expect(model.config.dtype).toBe('float16');
      expect(model.config.vocabularySize).toBe(260);
      for (const example of generatePretrainingExamples({ seed: 77, count: 50 })) {
        for (const text of [example.messages[0]!.content, example.completion]) {
          const ids = tokenizer.encode(text, { addSpecialTokens: false });
          // No merges: one token per character (all world text is ASCII).
          expect(ids.length).toBe(text.length);
          expect(tokenizer.decode(ids)).toBe(text);
        }
      }
      expect(tokenizer.applyChatTemplate([{ role: 'user', content: 'reverse abc' }], { addGenerationPrompt: true }))
        .toBe('<|bos|><|user|>reverse abc<|end|><|assistant|>');
      const eos = tokenizer.tokenToId('<|end|>')!;
      expect(tokenizer.specialTokenIds.eos).toEqual([eos]);
      expect(model.eosTokenIds.has(eos)).toBe(true);
      // The prompt starts with the special ids, not their spelled-out characters.
      expect(promptIds(tokenizer, [{ role: 'user', content: 'upper a' }]).slice(0, 2)).toEqual([tokenizer.tokenToId('<|bos|>')!, tokenizer.tokenToId('<|user|>')!]);
      const generated = await model.generate([{ promptIds: promptIds(tokenizer, worldChallengerMessages()) }], { maxNewTokens: 8, temperature: 0 });
      expect(generated[0]!.completionIds.length).toBeGreaterThan(0);
      model.dispose();
    } finally {
      tokenizer.dispose();
      device.dispose();
    }
  }, 20_000);

  test('examples are formatted as the lsp game prompts each role, completion ending in eos', async () => {
    const tokenizer = await loadTokenizer(out);
    try {
      const game = await createSelfPlayGame('lsp', { advantageImplementation: 'typescript' });
      const examples = generatePretrainingExamples({ seed: 3, count: 40 });
      for (const example of examples) {
        const messages = example.role === 'solver' ? game.solverPrompt(example.messages[0]!.content) : game.challengerPrompt!({ iteration: 0, index: 0 });
        expect(example.messages).toEqual(messages);
        const encoded = encodeExample(tokenizer, example);
        expect(encoded.promptIds).toEqual(promptIds(tokenizer, messages));
        expect(encoded.completionIds.at(-1)).toBe(tokenizer.specialTokenIds.eos[0]);
        expect(tokenizer.decode(encoded.completionIds, { skipSpecialTokens: true })).toBe(example.completion);
      }
      expect(examples.some((example) => example.role === 'challenger')).toBe(true);
    } finally {
      tokenizer.dispose();
    }
  }, 20_000);

  test('training continues from a folder with its tokenizer and shape', async () => {
    const device = await createWasmDevice({ threads: 2 });
    const continued = join(root, 'continued');
    try {
      const again = (await runPretraining({
        outDirectory: continued, device, steps: 20, seed: 6, batchSize: 16, learningRate: 1e-3, progressSeconds: 0,
        fromDirectory: out, evaluate: false,
      }))!;
      expect(again.continuedFrom).toEqual({ directory: out, steps: 60, seconds: report.seconds });
      expect(again.shape.hiddenSize).toBe(32);
      expect(readFileSync(join(continued, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(out, 'tokenizer.json'), 'utf8'));
      // It starts where the first run ended, not from a fresh model's loss of about ln(260) = 5.6.
      expect(again.losses[0]!.loss).toBeLessThan(report.losses[0]!.loss - 0.5);
    } finally {
      device.dispose();
      rmSync(continued, { recursive: true, force: true });
    }
  }, 60_000);

  test('bad settings are refused with one line before any work', async () => {
    const device = await createWasmDevice({ threads: 1 });
    try {
      const out2 = join(root, 'refused');
      await expect(runPretraining({ outDirectory: out2, device, steps: 0 })).rejects.toThrow('steps must be a whole number of at least 1');
      await expect(runPretraining({ outDirectory: out2, device, steps: 5, vocabularySize: 100 })).rejects.toThrow('at least 260');
      expect(existsSync(out2)).toBe(false);
    } finally {
      device.dispose();
    }
  });
});

describe('learningRateAt', () => {
  const schedule = { peakLearningRate: 1e-3, warmupSteps: 10, finalFraction: 0.1 };
  test('warms up linearly, then decays by cosine to the floor', () => {
    expect(learningRateAt(schedule, 0, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(schedule, 9, 0.01)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(schedule, 50, 0.5)).toBeCloseTo(0.55e-3, 12);
    expect(learningRateAt(schedule, 99, 1)).toBeCloseTo(1e-4, 12);
    // A time-capped run reports progress past 1 at the very end: the floor holds.
    expect(learningRateAt(schedule, 99, 1.2)).toBeCloseTo(1e-4, 12);
  });
});

describe('checkpoints and --resume', () => {
  test('a run stopped at step 7 and resumed ends with the weights and losses of one run straight through', async () => {
    const device = await createWasmDevice({ threads: 2, blas: false });
    const settings = {
      device, steps: 16, seed: 9, batchSize: 8, learningRate: 3e-3, progressSeconds: 0, checkpointEvery: 5, evaluate: false,
      shape: { hiddenSize: 16, layers: 1, heads: 2, intermediateSize: 32, contextLength: 256 },
      // The second stage begins at step 8, after the stop: the resumed run must replay the stages too.
      curriculum: [{ from: 0, solverLevels: [1] }, { from: 0.5, solverLevels: [3, 4], challengerLevels: [4] }],
    };
    try {
      const straight = join(root, 'straight');
      const whole = (await runPretraining({ ...settings, outDirectory: straight }))!;
      // Finished: the checkpoint is gone.
      expect(existsSync(pretrainCheckpointDirectory(straight))).toBe(false);

      const stopped = join(root, 'stopped');
      let steps = 0;
      const first = await runPretraining({ ...settings, outDirectory: stopped, stopRequested: () => ++steps >= 7 });
      expect(first).toBeUndefined();
      expect(existsSync(stopped)).toBe(false);
      expect(readPretrainCheckpoint(stopped).step).toBe(7);
      // The resumed run takes the checkpoint's settings (the curriculum too), whatever it is given.
      const rest = (await runPretraining({
        ...settings, outDirectory: stopped, seed: 1234, learningRate: 1, resume: true, curriculum: [{ from: 0, solverLevels: [5] }],
      }))!;
      expect(rest.steps).toBe(16);
      expect(rest.losses).toEqual(whole.losses);
      expect(readFileSync(join(stopped, 'model.safetensors'))).toEqual(readFileSync(join(straight, 'model.safetensors')));
      expect(existsSync(pretrainCheckpointDirectory(stopped))).toBe(false);
      // The finished folder records the curriculum, and --settings reads it back.
      expect(rest.settings.curriculum).toEqual(settings.curriculum);
      expect(readPretrainSettings(join(stopped, 'pretrain.json')).curriculum).toEqual(settings.curriculum);
    } finally {
      device.dispose();
    }
  }, 60_000);

  test('--resume without a checkpoint, or with a damaged one, is refused in one line', async () => {
    const device = await createWasmDevice({ threads: 1 });
    try {
      const missing = join(root, 'never-started');
      expect(runPretraining({ outDirectory: missing, device, steps: 5, resume: true })).rejects.toThrow('pretrain --resume: no checkpoint at');
      mkdirSync(pretrainCheckpointDirectory(missing));
      writeFileSync(join(pretrainCheckpointDirectory(missing), 'state.json'), '{"version": 7}');
      expect(runPretraining({ outDirectory: missing, device, steps: 5, resume: true })).rejects.toThrow('not a pretraining checkpoint');
    } finally {
      device.dispose();
    }
  });
});
