// The world model's architecture (a small Llama) and its initial weights: normal(0, 0.02) matrices with the
// residual projections scaled down by depth (GPT-2's scheme), norms at 1, stored in f16 to keep the folder small.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expectedTensors, parseModelConfig, writeSafetensors, type SafetensorsDType } from '@lsp/model';
import { createRandom } from '@lsp/world';

export interface WorldModelShape {
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  /** Longest prompt + completion the model attends (world sequences stay under about 120 tokens). */
  contextLength: number;
}

/**
 * The shipped shape: 0.89M parameters, 1.8 MB in f16. On the wasm backend (2 threads, a shared machine) hidden
 * 192 x 4 layers (1.8M) trained at 600-2,400 tokens/s and hidden 128 x 4 at 1,500-3,300; the smaller model's
 * extra steps in a 40-minute budget (7,354 of 32 sequences) served the world's short tasks better than width,
 * and it generates faster for the self-play that follows.
 */
export const defaultWorldModelShape: WorldModelShape = {
  hiddenSize: 128, layers: 4, heads: 4, intermediateSize: 384, contextLength: 256,
};

/** config.json of a Llama with this shape, the tokenizer's vocabulary and special-token ids. */
export function worldModelConfig(
  shape: WorldModelShape, vocabularySize: number, tokens: { bos: number; eos: number }, dtype: 'float32' | 'float16',
): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabularySize,
    hidden_size: shape.hiddenSize,
    intermediate_size: shape.intermediateSize,
    num_hidden_layers: shape.layers,
    num_attention_heads: shape.heads,
    num_key_value_heads: shape.heads,
    head_dim: shape.hiddenSize / shape.heads,
    hidden_act: 'silu',
    max_position_embeddings: shape.contextLength,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    attention_bias: false,
    mlp_bias: false,
    bos_token_id: tokens.bos,
    eos_token_id: tokens.eos,
    pad_token_id: tokens.eos,
    torch_dtype: dtype,
  };
}

/** Parameters of a config (the tied head counted once). */
export function parameterCount(config: Record<string, unknown>): number {
  return expectedTensors(parseModelConfig(config)).reduce((sum, spec) => sum + spec.shape.reduce((a, b) => a * b, 1), 0);
}

/** Writes config.json and freshly initialised weights into `directory`. */
export async function writeInitialModel(directory: string, config: Record<string, unknown>, seed: number): Promise<void> {
  const parsed = parseModelConfig(config);
  const random = createRandom(seed);
  // Box-Muller: two uniforms give one standard normal (the second is dropped for simplicity).
  const normal = () => Math.sqrt(-2 * Math.log(1 - random.next())) * Math.cos(2 * Math.PI * random.next());
  const residualScale = 1 / Math.sqrt(2 * parsed.layers);
  const dtype: SafetensorsDType = parsed.dtype === 'bfloat16' ? 'BF16' : parsed.dtype === 'float16' ? 'F16' : 'F32';
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  const tensors = expectedTensors(parsed).map((spec) => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(count);
    if (spec.name.endsWith('norm.weight')) {
      values.fill(1);
    } else {
      // Projections that write into the residual stream start smaller, so the stack's output variance does not grow with depth.
      const residual = spec.name.endsWith('o_proj.weight') || spec.name.endsWith('down_proj.weight');
      const std = 0.02 * (residual ? residualScale : 1);
      for (let i = 0; i < count; i++) values[i] = normal() * std;
    }
    return { name: spec.name, dtype, shape: spec.shape, values: async () => values };
  });
  await writeSafetensors(join(directory, 'model.safetensors'), tensors);
}
