// A tiny random Llama model folder with a BPE tokenizer trained on world tasks and a chat template: enough for
// the self-play loop to run end to end in a test in seconds (it learns nothing in that time).
import { writeRandomModel } from '@lsp/model';
import { trainBpe } from '@lsp/tokenizer-wasm';
import { generateTasks } from '@lsp/world';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const tinyChatTemplate =
  "{% for message in messages %}<|{{ message.role }}|>{{ message.content }}<|end|>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";

/** `scale` is the weights' half-width; NaN makes a model whose every output is non-finite (for refusal tests). */
export async function writeTinyWorldModel(directory: string, seed = 1, scale = 0.1): Promise<void> {
  const specialTokens = ['<|end|>', '<|user|>', '<|assistant|>'];
  const texts = generateTasks({ count: 400, seed }).flatMap((task) => [task.canonical, task.answer]);
  const tokenizerJson = trainBpe(texts, { vocabSize: 300, specialTokens, minFrequency: 2 });
  const vocabularySize = Object.keys((JSON.parse(tokenizerJson) as { model: { vocab: Record<string, number> } }).model.vocab).length;
  await writeRandomModel(
    directory,
    {
      architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: vocabularySize, hidden_size: 32,
      intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2,
      max_position_embeddings: 256, rms_norm_eps: 1e-5, rope_theta: 10000, eos_token_id: 0, bos_token_id: 0,
      tie_word_embeddings: false, torch_dtype: 'float32',
    },
    { seed, scale },
  );
  writeFileSync(join(directory, 'tokenizer.json'), tokenizerJson);
  writeFileSync(
    join(directory, 'tokenizer_config.json'),
    JSON.stringify({ chat_template: tinyChatTemplate, eos_token: '<|end|>', bos_token: null, add_bos_token: false }),
  );
}
