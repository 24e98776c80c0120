// The parsers the mutation tests feed, each with its base input and how one mutated input is tried: config.json in
// both dialects, safetensors single and sharded with its index, tokenizer.json, tokenizer_config.json,
// generation_config.json, and the JSONL inputs of `score`, `tokenize` and the GRPO datasets.
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readPromptFile } from '@lsp/game-lsp';
import { generationDefaults, loadModel, parseScoreInput, scoreSequences, type LlamaModel } from '@lsp/model';
import { createOracleDevice } from '@lsp/oracle';
import { loadTokenizerSync, runTokenize, WasmTokenizer } from '@lsp/tokenizer-wasm';
import { packagedModelFolder, packagedModels } from '../../plugins/tokenizer-wasm/src/tokenizer-test-support';
import { mutateBytes, mutateJson, mutateJsonLines, pick, type Random } from './mutate';
import { writeTinyWorldModel } from './tiny-world-model';

export interface MutationCase {
  /** What was changed, to reproduce a failure. */
  edits: string[];
  /** Bytes of the mutated input, for the memory bound. */
  size: number;
  /** Loads or runs the mutated input; resolves when it was accepted, throws when it was refused. */
  run(): Promise<void>;
}

export interface MutationTarget {
  name: string;
  /** Prepares the base files in `work`; returns a generator of mutated cases. */
  prepare(work: string): Promise<(random: Random) => MutationCase>;
}

const modelFixtures = join(import.meta.dir, '..', '..', 'packages', 'model', 'fixtures');

function readJsonFile(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8'));
}

/** A JSON file mutated by structure (three times in four) or as bytes. */
function mutateJsonFile(base: unknown, random: Random): { bytes: Uint8Array; edits: string[] } {
  if (random() < 0.75) {
    const { value, edits } = mutateJson(base, random);
    return { bytes: new TextEncoder().encode(JSON.stringify(value) ?? ''), edits };
  }
  return mutateBytes(new TextEncoder().encode(JSON.stringify(base, null, 1)), random);
}

/** Loads a model folder onto the float64 oracle device and scores one short sequence. */
async function loadAndScore(directory: string): Promise<void> {
  const model = await loadModel(directory, { device: createOracleDevice() });
  await model.tokenLogProbs([{ promptIds: [1, 2], completionIds: [3] }]);
}

/** A copy of a fixture folder whose `file` is rewritten with each mutation. */
function folderTarget(name: string, fixture: string, file: string, base?: unknown): MutationTarget {
  return {
    name,
    async prepare(work) {
      const directory = join(work, name.replace(/[^a-z0-9]+/gi, '-'));
      cpSync(join(modelFixtures, fixture), directory, { recursive: true });
      base ??= readJsonFile(join(directory, file));
      return (random) => {
        const { bytes, edits } = mutateJsonFile(base, random);
        return {
          edits, size: bytes.length,
          async run() {
            writeFileSync(join(directory, file), bytes);
            if (file === 'generation_config.json') generationDefaults(directory);
            await loadAndScore(directory);
          },
        };
      };
    },
  };
}

/** A safetensors file mutated in its header (as JSON or as bytes) or its data length. */
function safetensorsTarget(name: string, fixture: string, shard: string): MutationTarget {
  return {
    name,
    async prepare(work) {
      const directory = join(work, name.replace(/[^a-z0-9]+/gi, '-'));
      cpSync(join(modelFixtures, fixture), directory, { recursive: true });
      const original = readFileSync(join(directory, shard));
      const headerLength = Number(original.readBigUInt64LE(0));
      const header = JSON.parse(original.subarray(8, 8 + headerLength).toString('utf8'));
      return (random) => {
        let bytes: Uint8Array;
        let edits: string[];
        if (random() < 0.5) {
          const mutated = mutateJson(header, random);
          const text = Buffer.from(JSON.stringify(mutated.value) ?? '');
          const prefix = Buffer.alloc(8);
          prefix.writeBigUInt64LE(BigInt(text.length));
          bytes = Buffer.concat([prefix, text, original.subarray(8 + headerLength)]);
          edits = mutated.edits;
        } else {
          ({ bytes, edits } = mutateBytes(original, random, 8 + headerLength));
        }
        return {
          edits, size: bytes.length,
          async run() {
            writeFileSync(join(directory, shard), bytes);
            await loadAndScore(directory);
          },
        };
      };
    },
  };
}

/** The pipeline sections of every packaged tokenizer.json on a small vocabulary, so each normalizer,
 * pre-tokenizer, decoder and post-processor kind is mutated without parsing megabytes per input. */
function smallTokenizerBases(tinyTokenizer: { model: Record<string, unknown> }): unknown[] {
  return packagedModels.map((name) => {
    const json = readJsonFile(join(packagedModelFolder(name), 'tokenizer.json')) as Record<string, unknown> & { model: Record<string, unknown>; added_tokens?: unknown[] };
    return {
      ...json,
      added_tokens: (json.added_tokens ?? []).slice(0, 12),
      model: { ...json.model, vocab: tinyTokenizer.model.vocab, merges: tinyTokenizer.model.merges },
    };
  });
}

const sampleTexts = ['Hello world, reverse 2672!', ' add 52 93\n\n<|end|> é 中文 🤖', ''];

function exercise(tokenizer: WasmTokenizer): void {
  for (const text of sampleTexts) {
    const ids = tokenizer.encode(text);
    tokenizer.decode(ids);
    tokenizer.decode(ids, { skipSpecialTokens: true });
  }
  tokenizer.applyChatTemplate([{ role: 'user', content: 'reverse abc' }], { addGenerationPrompt: true });
}

export const mutationTargets: MutationTarget[] = [
  folderTarget('config.json (transformers 4)', 'qwen2-f16-v4', 'config.json'),
  folderTarget('config.json (transformers 5)', 'llama3-bf16', 'config.json'),
  folderTarget('generation_config.json', 'mistral-f32', 'generation_config.json', {
    bos_token_id: 1, eos_token_id: [2, 3], pad_token_id: 0, do_sample: true, temperature: 0.7, top_p: 0.9, top_k: 50,
  }),
  safetensorsTarget('model.safetensors', 'mistral-f32', 'model.safetensors'),
  safetensorsTarget('sharded safetensors', 'qwen3-sharded', 'model-00002-of-00004.safetensors'),
  folderTarget('model.safetensors.index.json', 'qwen3-sharded', 'model.safetensors.index.json'),
  {
    name: 'tokenizer.json',
    async prepare(work) {
      const directory = join(work, 'tokenizer');
      await writeTinyWorldModel(directory);
      const bases = smallTokenizerBases(readJsonFile(join(directory, 'tokenizer.json')) as { model: Record<string, unknown> });
      return (random) => {
        const { bytes, edits } = mutateJsonFile(pick(random, bases), random);
        return {
          edits, size: bytes.length,
          async run() {
            writeFileSync(join(directory, 'tokenizer.json'), bytes);
            const tokenizer = loadTokenizerSync(directory);
            try {
              exercise(tokenizer);
            } finally {
              tokenizer.dispose();
            }
          },
        };
      };
    },
  },
  {
    name: 'tokenizer_config.json',
    async prepare(work) {
      const directory = join(work, 'tokenizer-config');
      await writeTinyWorldModel(directory);
      const base = {
        ...(readJsonFile(join(directory, 'tokenizer_config.json')) as object),
        add_bos_token: true, bos_token: { content: '<|user|>', lstrip: false }, pad_token: '<|end|>', unk_token: null,
        added_tokens_decoder: { 0: { content: '<|end|>', special: true }, 1: { content: '<|user|>', special: true } },
        model_max_length: 2048, clean_up_tokenization_spaces: false,
      };
      return (random) => {
        const { bytes, edits } = mutateJsonFile(base, random);
        return {
          edits, size: bytes.length,
          async run() {
            writeFileSync(join(directory, 'tokenizer_config.json'), bytes);
            const tokenizer = loadTokenizerSync(directory);
            try {
              exercise(tokenizer);
            } finally {
              tokenizer.dispose();
            }
          },
        };
      };
    },
  },
  {
    name: 'score input (JSONL)',
    async prepare(work) {
      const directory = join(work, 'score-model');
      await writeTinyWorldModel(directory);
      const tokenizer = loadTokenizerSync(directory);
      const model: LlamaModel = await loadModel(directory, { device: createOracleDevice(), tokenizer });
      const lines = [
        { prompt_ids: [1, 2, 3], completion_ids: [4, 5] },
        { prompt: 'reverse abc', completion: 'cba' },
        { prompt_ids: [7], completion_ids: [8, 9, 10] },
      ];
      return (random) => {
        const { text, edits } = mutateJsonLines(lines, random);
        return {
          edits, size: text.length,
          async run() {
            await scoreSequences(model, parseScoreInput(text, model, 'input.jsonl'), () => {});
          },
        };
      };
    },
  },
  {
    name: 'tokenize input (JSONL and decode)',
    async prepare(work) {
      const directory = join(work, 'tokenize-model');
      await writeTinyWorldModel(directory);
      const texts = ['reverse abc', 'add 1 2\n<|end|>', ''];
      const ids = [[1, 2, 3], [0], []];
      return (random) => {
        const decode = random() < 0.5;
        const { text, edits } = mutateJsonLines(decode ? ids : texts, random);
        return {
          edits: [decode ? 'decode' : 'jsonl', ...edits], size: text.length,
          async run() {
            await runTokenize({ tokenizerPath: directory, jsonl: !decode, decode }, (async function* () { yield text; })(), { write: () => true });
          },
        };
      };
    },
  },
  {
    name: 'GRPO dataset (JSONL)',
    async prepare(work) {
      mkdirSync(join(work, 'dataset'), { recursive: true });
      const path = join(work, 'dataset', 'prompts.jsonl');
      const lines = [{ prompt: 'reverse abc' }, { instruction: 'Sort these', input: 'c b a' }, { instruction: 'Say hi', input: '', output: 'hi' }];
      return (random) => {
        const { text, edits } = mutateJsonLines(lines, random);
        return {
          edits, size: text.length,
          async run() {
            writeFileSync(path, text);
            readPromptFile(path);
          },
        };
      };
    },
  },
];
