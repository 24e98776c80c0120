// `lsp score --model DIR --input FILE.jsonl`: the log-probability of each given completion, one JSONL line each
// ({"logprob", "tokens", "token_logprobs"}). The logic is @lsp/model's runScore; this file parses flags.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, LspError, chooseAvailableBackend, type BackendV1, type DeviceV1, type TokenizerV1 } from '@lsp/core';
import { baseFolderOf, loadModel, runScore, type LlamaModel } from '@lsp/model';
import { createOracleDevice } from '@lsp/oracle';
import type { Command } from 'commander';

/**
 * The backends a model command can open: the CPU one, and WebGPU when @lsp/backend-webgpu is installed (its
 * package failing to load leaves the CPU one).
 */
export async function installedBackends(): Promise<BackendV1[]> {
  const { createWasmBackend } = await import('@lsp/backend-wasm');
  const backends = [createWasmBackend()];
  const specifier = '@lsp/backend-webgpu';
  try {
    const module = (await import(specifier)) as { createWebgpuBackend?: () => BackendV1 };
    if (module.createWebgpuBackend) backends.push(module.createWebgpuBackend());
  } catch {
    // Not installed: the CPU backend alone.
  }
  return backends;
}

/**
 * Opens the device a model command runs on: oracle (float64 reference), wasm (CPU), webgpu, or auto (WebGPU on a
 * real GPU, else the CPU backend: a GPU API over a CPU emulation is slower than it).
 */
export async function openModelDevice(name: string): Promise<DeviceV1> {
  if (name === 'oracle') return createOracleDevice();
  const backend = await chooseAvailableBackend(await installedBackends(), name);
  return backend.createDevice();
}

/** Loads a model folder with its tokenizer when the folder has tokenizer.json. */
export async function openModel(directory: string, backend: string): Promise<LlamaModel> {
  let tokenizer: TokenizerV1 | undefined;
  const base = baseFolderOf(directory); // an adapter folder's tokenizer is its base model's
  if (existsSync(join(base, 'tokenizer.json'))) {
    // Token ids work without a tokenizer: one that fails to load is a warning until text is needed.
    try {
      const { loadTokenizer } = await import('@lsp/tokenizer-wasm');
      tokenizer = await loadTokenizer(base);
    } catch (error) {
      const reason = LspError.isInstance(error) ? error.toLine() : error instanceof Error ? error.message : String(error);
      console.error(`lsp: warning: tokenizer.json not loaded (${reason}); text input and output are unavailable`);
    }
  }
  const device = await openModelDevice(backend);
  return loadModel(directory, { device, tokenizer });
}

/**
 * Flags of a model command. The root `lsp` also declares --model, --backend and --seed (for `lsp run`), and
 * commander gives it those wherever they appear, so read them merged with the root's.
 */
export function modelCommandOptions<T>(command: Command, name: string): T & { model: string; backend: string } {
  const options = command.optsWithGlobals() as T & { model?: string; backend?: string };
  if (!options.model) throw new ConfigError(`${name} needs --model DIR (a Hugging Face model folder)`);
  return { ...options, model: options.model, backend: options.backend ?? 'auto' };
}

export function registerScoreCommand(program: Command): void {
  program
    .command('score')
    .description('log-probabilities of given completions: JSONL in ({"prompt_ids","completion_ids"} or {"prompt","completion"}), JSONL out')
    .option('--model <dir>', 'Hugging Face model folder (required)')
    .requiredOption('--input <file>', 'JSONL file, one sequence per line')
    .option('--backend <name>', 'compute backend: wasm, webgpu, auto (default), or oracle (float64 reference)')
    .action(async (_flags: unknown, command: Command) => {
      const options = modelCommandOptions<{ input: string }>(command, 'score');
      const model = await openModel(options.model, options.backend);
      try {
        await runScore(model, options.input, (line) => process.stdout.write(`${line}\n`));
      } finally {
        model.dispose();
        model.tokenizer?.dispose();
        model.device.dispose();
      }
    });
}
