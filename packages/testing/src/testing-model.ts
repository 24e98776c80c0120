// Model folders for plugin tests: the built-in world's pretrained model (what a game or judge is played on), and a
// tiny random Llama with the same tokenizer (for backends, whose first devices are slow, and for shape checks).
import { writeRandomModel } from '@lsp/model';
import { builtinModelDirectory } from '@lsp/world';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

/** The built-in world model's folder (0.89M parameters): it writes valid world tasks and solves some of them. */
export function worldModelDirectory(): string {
  return builtinModelDirectory();
}

export interface TinyModelOptions {
  /** Seeds the random weights. Default 1. */
  seed?: number;
  /** Half-width of the uniform weight distribution. Default 0.1. */
  scale?: number;
}

/**
 * Writes a random two-layer Llama (hidden size 32) with the built-in world's byte-level tokenizer and chat template
 * into `directory`. It learns nothing in a test's time and writes no valid task, but every kernel of a training
 * step runs on it in milliseconds, even on a plain TypeScript device.
 */
export async function writeTinyModel(directory: string, options: TinyModelOptions = {}): Promise<string> {
  const world = builtinModelDirectory();
  await writeRandomModel(
    directory,
    {
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 260, hidden_size: 32, intermediate_size: 64,
      num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, max_position_embeddings: 256,
      rms_norm_eps: 1e-5, rope_theta: 10000, bos_token_id: 0, eos_token_id: 1, tie_word_embeddings: true,
      torch_dtype: 'float32',
    },
    { seed: options.seed ?? 1, scale: options.scale ?? 0.1 },
  );
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(world, file), join(directory, file));
  return directory;
}
