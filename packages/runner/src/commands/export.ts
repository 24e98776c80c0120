// `lsp export --format gguf --model DIR --out FILE [--dtype f32|f16|q8_0]`: a model folder as one GGUF file for
// llama.cpp and the tools built on it. The logic is @lsp/model's exportGguf; this file parses flags. The root
// `lsp` also declares --model and --out (for `lsp run`), so they are read merged with the root's.
import { ConfigError } from '@lsp/core';
import { exportGguf, ggufDTypes, type GgufDType } from '@lsp/model';
import type { Command } from 'commander';

interface ExportFlags {
  format: string;
  out?: string;
  dtype: string;
  model?: string;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write a model folder as a GGUF file for llama.cpp (architecture, hyper-parameters, RoPE, tokenizer, chat template)')
    .requiredOption('--format <format>', 'output format: gguf')
    .option('--model <dir>', 'Hugging Face model folder (required)')
    .option('--out <file>', 'the .gguf file to write (required)')
    .option('--dtype <type>', `storage of the matrices: ${ggufDTypes.join(', ')}`, 'f16')
    .action(async (_flags: unknown, command: Command) => {
      const options = command.optsWithGlobals() as ExportFlags;
      if (options.format !== 'gguf') throw new ConfigError(`--format ${options.format} is not supported (gguf)`);
      if (!options.model) throw new ConfigError('export needs --model DIR (a Hugging Face model folder)');
      if (!options.out) throw new ConfigError('export needs --out FILE (the .gguf file to write)');
      if (!(ggufDTypes as readonly string[]).includes(options.dtype)) {
        throw new ConfigError(`--dtype ${options.dtype} is not supported (${ggufDTypes.join(', ')})`);
      }
      const summary = await exportGguf({ model: options.model, out: options.out, dtype: options.dtype as GgufDType });
      const types = Object.entries(summary.types).map(([type, count]) => `${count} ${type}`).join(', ');
      console.log(`wrote ${summary.file}: ${summary.architecture}, ${summary.tensors} tensors (matrices: ${types}), ${summary.metadata} metadata keys, ${summary.bytes} bytes`);
    });
}
