// `lsp tokenize`: standard input to token ids (one JSON array per line) or, with --decode, ids back to text.
// The logic lives in @lsp/tokenizer-wasm (runTokenize); this file only declares the command.
import { runTokenize } from '@lsp/tokenizer-wasm';
import type { Command } from 'commander';

export function registerTokenizeCommand(program: Command): void {
  program
    .command('tokenize')
    .description('encode standard input line by line to JSON id arrays (or decode id arrays) with a tokenizer.json')
    .requiredOption('--tokenizer <path>', 'a model folder or its tokenizer.json')
    .option('--jsonl', 'each input line is one JSON string (texts may hold newlines)')
    .option('--no-special', 'encode without the special tokens the post-processor adds; decode skipping special tokens')
    .option('--decode', 'read JSON id arrays and write JSON strings')
    .action(async (options: { tokenizer: string; jsonl?: boolean; special: boolean; decode?: boolean }) => {
      await runTokenize(
        { tokenizerPath: options.tokenizer, jsonl: options.jsonl === true, special: options.special, decode: options.decode === true },
        process.stdin,
        process.stdout,
      );
    });
}
