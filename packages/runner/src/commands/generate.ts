// `lsp generate --model DIR --prompt TEXT`: streams the model's continuation as it is generated. The logic is
// @lsp/model's runGenerate; this file parses flags.
import { InvalidArgumentError, type Command } from 'commander';
import { generationDefaults, runGenerate } from '@lsp/model';
import { parseInteger, parseNumber } from './shared-options';
import { modelCommandOptions, openModel } from './score';

interface GenerateFlags {
  prompt?: string;
  promptIds?: number[];
  chat?: boolean;
  maxTokens: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
}

function parseIdList(value: string): number[] {
  const ids = value.split(/[\s,]+/).filter(Boolean).map(Number);
  if (ids.length === 0 || !ids.every((id) => Number.isInteger(id) && id >= 0)) {
    throw new InvalidArgumentError(`--prompt-ids must be token ids separated by commas, got "${value}"`);
  }
  return ids;
}

export function registerGenerateCommand(program: Command): void {
  program
    .command('generate')
    .description('generate text from a prompt, streamed as it comes')
    .option('--model <dir>', 'Hugging Face model folder (required)')
    .option('--prompt <text>', 'prompt text (needs tokenizer.json in the folder)')
    .option('--prompt-ids <ids>', 'prompt as token ids, e.g. 1,15043,29892 (prints ids when there is no tokenizer)', parseIdList)
    .option('--chat', 'wrap the prompt in the model\'s chat template as a user message')
    .option('--max-tokens <n>', 'most new tokens', parseInteger('--max-tokens'), 256)
    .option('--temperature <t>', '0 is greedy (default: generation_config.json, else 1)', parseNumber('--temperature'))
    .option('--top-p <p>', 'nucleus sampling mass (default: generation_config.json, else 1)', parseNumber('--top-p'))
    .option('--top-k <k>', 'keep the k most likely tokens; 0 disables', parseInteger('--top-k'))
    .option('--seed <s>', 'sampling seed', parseInteger('--seed'))
    .option('--backend <name>', 'compute backend: wasm, webgpu, auto (default), or oracle (float64 reference)')
    .action(async (_flags: unknown, command: Command) => {
      const options = modelCommandOptions<GenerateFlags>(command, 'generate');
      const model = await openModel(options.model, options.backend);
      try {
        await runGenerate(model, options, (text) => process.stdout.write(text), generationDefaults(options.model));
        process.stdout.write('\n');
      } finally {
        model.dispose();
        model.tokenizer?.dispose();
        model.device.dispose();
      }
    });
}
