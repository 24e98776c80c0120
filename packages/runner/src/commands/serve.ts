// `lsp serve --model DIR`: an OpenAI-compatible HTTP server on the model's batched generation. The logic is
// serve/run-serve.ts and serve/openai-server.ts; this file parses flags.
import type { Command } from 'commander';
import { runServe } from '../serve/run-serve';
import { parseInteger } from './shared-options';
import { modelCommandOptions } from './score';

interface ServeFlags {
  port: number;
  host: string;
  apiKeyEnv?: string;
  adapter?: string;
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('an OpenAI-compatible server on the model: /v1/models, /v1/chat/completions, /v1/completions, LoRA adapters loaded as vLLM does')
    .option('--model <dir>', 'Hugging Face model folder, or builtin (required); clients name it the same way in "model"')
    .option('--adapter <dir>', 'a LoRA adapter folder (PEFT layout) applied to the model; more can be loaded at run time with POST /v1/load_lora_adapter')
    .option('--port <p>', 'port to listen on; 0 picks a free one', parseInteger('--port'), 8000)
    .option('--host <h>', 'address to bind; 0.0.0.0 opens the server to other machines', '127.0.0.1')
    .option('--backend <name>', 'compute backend: wasm, webgpu, auto (default), or oracle (float64 reference)')
    .option('--api-key-env <name>', 'require "Authorization: Bearer <key>", the key read from this environment variable')
    .action(async (_flags: unknown, command: Command) => {
      const options = modelCommandOptions<ServeFlags>(command, 'serve');
      await runServe({
        model: options.model, backend: options.backend, host: options.host, port: options.port,
        ...(options.apiKeyEnv !== undefined ? { apiKeyEnv: options.apiKeyEnv } : {}),
        ...(options.adapter !== undefined ? { adapter: options.adapter } : {}),
      });
    });
}
