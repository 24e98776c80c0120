// `lsp serve`'s logic: open the model folder (or the built-in model), read the API key from the environment
// variable named on the command line, start the server, and stop cleanly on Ctrl-C or SIGTERM.
import { ConfigError, InvalidInputError, type PolicyModelV1 } from '@lsp/core';
import { generationDefaults, loadAdapterView, loadLoraAdapter, loadModel, type LlamaModel } from '@lsp/model';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openModel } from '../commands/score';
import { resolveModelDirectory } from '../selfplay/experiment';
import { startOpenAiServer, type OpenAiServer } from './openai-server';

export interface ServeOptions {
  /** A model folder, or 'builtin'. Also the name clients give as `model`. */
  model: string;
  backend: string;
  host: string;
  port: number;
  /** The NAME of the environment variable holding the key; the key itself is never printed. */
  apiKeyEnv?: string;
  /** A LoRA adapter folder applied to the served model. */
  adapter?: string;
}

/** The key named by --api-key-env, or a ConfigError saying what is missing. */
export function readApiKey(variable: string | undefined, environment: Record<string, string | undefined> = process.env): string | undefined {
  if (variable === undefined) return undefined;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
    throw new ConfigError(`--api-key-env takes the name of an environment variable (e.g. LSP_API_KEY), got "${variable}"`, {
      hint: 'put the key in the variable, and its name on the command line',
    });
  }
  const key = environment[variable]?.trim();
  if (!key) throw new ConfigError(`the environment variable ${variable} named by --api-key-env is not set`, { hint: `export ${variable}=<key> first` });
  return key;
}

/** Starts the server on an opened model; returns it with a function that also frees the model. */
export async function startServe(options: ServeOptions): Promise<{ server: OpenAiServer; description: string; close: () => Promise<void> }> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new ConfigError(`--port must be a port number from 0 to 65535, got ${options.port}`);
  }
  const apiKey = readApiKey(options.apiKeyEnv);
  const directory = await resolveModelDirectory(options.model);
  const model = await openModel(directory, options.backend);
  if (options.adapter !== undefined) {
    try {
      loadLoraAdapter(model, resolve(options.adapter));
    } catch (error) {
      model.dispose();
      model.tokenizer?.dispose();
      model.device.dispose();
      throw error;
    }
  }
  let served: LlamaModel = model;
  const release = () => {
    served.dispose();
    model.dispose();
    model.tokenizer?.dispose();
    model.device.dispose();
  };
  let server: OpenAiServer;
  try {
    server = startOpenAiServer({
      model,
      modelName: options.model,
      eosTokenIds: model.eosTokenIds,
      vocabularySize: model.config.vocabularySize,
      contextLength: Math.min(model.config.maxPositionEmbeddings, model.config.slidingWindow ?? Number.POSITIVE_INFINITY),
      defaults: generationDefaults(directory),
      host: options.host,
      port: options.port,
      // POST /v1/load_weights: a trainer's new policy (same architecture and tokenizer) on the same device.
      loadWeights: async (path) => {
        const folder = resolve(path);
        if (!existsSync(join(folder, 'config.json'))) throw new InvalidInputError(`${path} has no config.json`);
        const next: LlamaModel = await loadModel(folder, { device: model.device, ...(model.tokenizer ? { tokenizer: model.tokenizer } : {}) });
        const same = (['vocabularySize', 'hiddenSize', 'layers', 'maxPositionEmbeddings'] as const)
          .every((key) => next.config[key] === model.config[key]);
        if (!same) {
          next.dispose();
          throw new InvalidInputError(`${path} holds a model of another shape than the served ${options.model}`);
        }
        served = next;
        return next;
      },
      // POST /v1/load_lora_adapter: an adapter folder over the served weights (no copy of them; the weights a
      // load_weights put in place, once one has).
      loadAdapter: async (path) => loadAdapterView(served, resolve(path)),
      ...(apiKey !== undefined ? { apiKey } : {}),
    });
  } catch (error) {
    release();
    throw error;
  }
  return {
    server,
    description: model.device.info.description,
    close: async () => {
      await server.stop();
      release();
    },
  };
}

/** `lsp serve`: serves until Ctrl-C or SIGTERM. */
export async function runServe(options: ServeOptions, print: (line: string) => void = console.log): Promise<void> {
  const { server, description, close } = await startServe(options);
  print(`lsp: serving ${options.model} at ${server.baseUrl} on ${description}${options.apiKeyEnv ? ` (key from $${options.apiKeyEnv})` : ''}; Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await close();
  print('lsp: server stopped');
}
