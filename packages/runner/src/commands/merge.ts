// `lsp merge --adapter DIR --out DIR [--base DIR]`: a LoRA adapter (PEFT's layout, as LSP's LoRA checkpoints are)
// folded into its base model, written as a plain Hugging Face folder. The logic is @lsp/model's mergeAdapter.
import { ConfigError } from '@lsp/core';
import { mergeAdapter } from '@lsp/model';
import type { Command } from 'commander';
import { openModelDevice } from './score';

interface MergeFlags {
  base?: string;
  adapter: string;
  out?: string;
  backend?: string;
}

export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('fold a LoRA adapter folder (PEFT layout) into its base model and write a plain Hugging Face folder')
    .requiredOption('--adapter <dir>', 'the adapter folder (adapter_config.json, adapter_model.safetensors), e.g. runs/<run>/checkpoints/iteration-N/model')
    .option('--base <dir>', 'the base model folder (default: the adapter\'s base_model_name_or_path)')
    .option('--out <dir>', 'the folder to write (required)')
    .option('--backend <name>', 'compute backend for the products: auto, wasm, webgpu')
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals() as MergeFlags;
      if (!options.out) throw new ConfigError('merge needs --out DIR (the merged model folder to write)');
      const device = await openModelDevice(options.backend ?? 'auto');
      try {
        const summary = await mergeAdapter({ adapter: options.adapter, out: options.out, device, ...(options.base ? { base: options.base } : {}) });
        const { rank, alpha, targets } = summary.settings;
        console.log(`wrote ${options.out}: ${summary.base} with ${summary.adapters} LoRA adapters (r ${rank}, alpha ${alpha}, ${targets.join(', ')}) merged in`);
      } finally {
        device.dispose();
      }
    });
}
