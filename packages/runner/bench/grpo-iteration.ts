// One GRPO iteration in the shapes of the CPU benchmark, driven through the project's own model API and the
// 'grpo' game's arithmetic, timed by phase; bench-selfplay.ts compares it with TRL's GRPOTrainer
// (trl_reference.py) doing the same work. A script part, not a test.
import { createGrpoGame } from '@lsp/game-lsp';
import { loadModel, writeRandomModel } from '@lsp/model';
import type { DeviceV1, PolicySequence } from '@lsp/core';

/** The shapes both sides run: the benchmark model (5.4M parameters, tied embeddings) and 8 x 8 x 48 tokens. */
export const grpoSettings = {
  vocab: 4096, hidden: 256, layers: 6, heads: 8, kv_heads: 4, intermediate: 688, max_positions: 1024,
  prompts: 8, answers: 8, prompt_tokens: 16, completion_tokens: 48,
  beta: 0.05, learning_rate: 1e-6, temperature: 1.0, iterations: 4, threads: 2, seed: 1,
};
export type GrpoSettings = typeof grpoSettings;

/** Seconds of one iteration and of its phases. */
export interface IterationTiming {
  seconds: number;
  generation: number;
  reference: number;
  training: number;
  other: number;
}

export async function writeGrpoModel(directory: string, settings: GrpoSettings): Promise<void> {
  await writeRandomModel(directory, {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: settings.vocab, hidden_size: settings.hidden,
    intermediate_size: settings.intermediate, num_hidden_layers: settings.layers, num_attention_heads: settings.heads,
    num_key_value_heads: settings.kv_heads, max_position_embeddings: settings.max_positions, tie_word_embeddings: true,
  }, { scale: 0.05, seed: settings.seed });
}

/** Deterministic prompt ids, different for every prompt: the Park-Miller generator (products stay below 2^53, so
 * trl_reference.py computes the same ids). */
export function promptIds(settings: GrpoSettings, prompt: number): number[] {
  let state = ((settings.seed * 7919 + prompt * 104729) % 2147483646) + 1;
  return Array.from({ length: settings.prompt_tokens }, () => {
    state = (state * 48271) % 2147483647;
    return state % settings.vocab;
  });
}

/** The reward both sides use: the share of even token ids in the completion (cheap, and varies between answers). */
export function evenShare(ids: readonly number[]): number {
  return ids.length === 0 ? 0 : ids.filter((id) => id % 2 === 0).length / ids.length;
}

/**
 * Runs `settings.iterations` measured GRPO iterations (after one warm-up) on `device` and returns their timings:
 * generation of prompts x answers completions of exactly completion_tokens tokens, the frozen reference's token
 * log-probabilities, group advantages (standard-deviation normalised, as TRL's default) and the k3 KL loss with
 * per-sequence token means (TRL's loss_type "grpo"), one forward and backward pass and one AdamW step.
 */
export async function runGrpoIterations(
  directory: string, device: DeviceV1, settings: GrpoSettings,
): Promise<{ timings: IterationTiming[]; parameters: number; completionLengths: [number, number] }> {
  const policy = await loadModel(directory, { device });
  const reference = await policy.cloneFrozen();
  const game = await createGrpoGame({
    queriesPerIteration: settings.prompts, answersPerQuery: settings.answers, klCoefficient: settings.beta,
    klEstimator: 'k3', klPlacement: 'loss', aggregation: 'sequence-mean', advantageNormalization: 'standard-deviation',
    learningRate: settings.learning_rate, temperature: settings.temperature, maxNewTokens: settings.completion_tokens,
    dataset: 'world', datasetSize: settings.prompts,
  });
  const requests = Array.from({ length: settings.prompts * settings.answers }, (_, index) => ({
    promptIds: promptIds(settings, Math.floor(index / settings.answers)),
  }));
  const timings: IterationTiming[] = [];
  let [shortest, longest] = [Number.POSITIVE_INFINITY, 0];
  try {
    for (let iteration = 0; iteration <= settings.iterations; iteration++) {
      const start = performance.now();
      const results = await policy.generate(requests, {
        maxNewTokens: settings.completion_tokens, temperature: settings.temperature, seed: settings.seed * 1000 + iteration,
      });
      const generated = performance.now();
      const sequences = requests.map((request, index) => ({ promptIds: request.promptIds, completionIds: results[index]!.completionIds }));
      const referenceLogProbs = await reference.tokenLogProbs(sequences);
      const referenced = performance.now();
      const rewards = Array.from({ length: settings.prompts }, (_, prompt) =>
        Array.from({ length: settings.answers }, (_, answer) => evenShare(sequences[prompt * settings.answers + answer]!.completionIds)));
      const advantages = game.computeAdvantages({ rewards }).solver.flat();
      const scored = performance.now();
      await policy.accumulateGradients(sequences, (logProbs) => {
        const policySequences: PolicySequence[] = logProbs.map((row, index) => ({
          logProbs: row, referenceLogProbs: referenceLogProbs[index]!, advantage: advantages[index]!,
        }));
        return game.policyLoss('solver', policySequences, { denominator: sequences.length }).gradients;
      });
      // TrainingArguments' defaults: clip at norm 1, no weight decay.
      await policy.optimizerStep({ learningRate: settings.learning_rate, maxGradientNorm: 1, weightDecay: 0 });
      const trained = performance.now();
      if (iteration === 0) continue;
      for (const sequence of sequences) {
        shortest = Math.min(shortest, sequence.completionIds.length);
        longest = Math.max(longest, sequence.completionIds.length);
      }
      timings.push({
        seconds: (trained - start) / 1000,
        generation: (generated - start) / 1000,
        reference: (referenced - generated) / 1000,
        training: (trained - scored) / 1000,
        other: (scored - referenced) / 1000,
      });
    }
    return { timings, parameters: policy.parameters.all.reduce((sum, parameter) => sum + parameter.shape.reduce((a, b) => a * b, 1), 0), completionLengths: [shortest, longest] };
  } finally {
    reference.dispose();
    policy.dispose();
  }
}
