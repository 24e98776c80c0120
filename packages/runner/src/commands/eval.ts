// `lsp eval --checkpoint DIR`: the held-out score of a model folder, a checkpoint, or a run's latest checkpoint.
import { InvalidInputError } from '@lsp/core';
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { latestCheckpoint } from '../run/run-folder';
import { checkpointModelFolder } from '../selfplay/experiment';
import { evaluateCheckpoint } from '../selfplay/evaluation';
import { parseInteger, parseNumber, prepareRun } from './shared-options';

/** The model folder behind DIR: a model folder itself, a checkpoint folder, or a run folder (its latest checkpoint). */
export function modelFolderOf(directory: string): string {
  const path = resolve(directory);
  if (existsSync(join(path, 'config.json')) && existsSync(join(path, 'tokenizer.json'))) return path;
  if (existsSync(join(path, checkpointModelFolder, 'config.json'))) return join(path, checkpointModelFolder);
  const latest = existsSync(join(path, 'checkpoints')) ? latestCheckpoint(path) : undefined;
  if (latest) return join(latest.directory, checkpointModelFolder);
  throw new InvalidInputError(`${directory} holds no model: expected a model folder, a checkpoint or a run folder with a checkpoint`, {
    hint: 'pass runs/<run>, runs/<run>/checkpoints/iteration-N, or a Hugging Face model folder',
  });
}

interface EvalOptions {
  checkpoint: string;
  benchmark: string;
  backend?: string;
  maxTokens: number;
  temperature: number;
  samples: number;
  seed: number;
  json?: boolean;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('print the held-out score of a checkpoint, a run (its latest checkpoint) or a model folder')
    .requiredOption('--checkpoint <dir>', 'a run folder, a checkpoint folder, or a model folder ("builtin" for the built-in model)')
    .option('--benchmark <name>', 'benchmark to evaluate', 'world')
    .option('--backend <name>', 'compute backend: auto, wasm, webgpu')
    .option('--max-tokens <n>', 'longest answer, in tokens', parseInteger('--max-tokens'), 64)
    .option('--temperature <t>', 'sample answers at this temperature instead of greedily', parseNumber('--temperature'), 0)
    .option('--samples <n>', 'answers drawn per item when sampling; an item scores the mean of its draws', parseInteger('--samples'), 4)
    .option('--seed <n>', 'seed of the sampled answers', parseInteger('--seed'), 0)
    .option('--json', 'print the figures as JSON')
    .action(async (options: EvalOptions, command: Command) => {
      if (options.temperature < 0) throw new InvalidInputError(`--temperature must be 0 or more, got ${options.temperature}`);
      if (options.maxTokens < 1) throw new InvalidInputError(`--max-tokens must be at least 1, got ${options.maxTokens}`);
      if (options.samples < 1) throw new InvalidInputError(`--samples must be at least 1, got ${options.samples}`);
      const { resolved, registry } = await prepareRun(command, { backend: options.backend, benchmark: options.benchmark });
      const modelDirectory = options.checkpoint === 'builtin' ? 'builtin' : modelFolderOf(options.checkpoint);
      const sampling = { temperature: options.temperature, samples: options.temperature > 0 ? options.samples : 1, seed: options.seed };
      const figures = await evaluateCheckpoint(registry, resolved.config, modelDirectory, options.maxTokens, sampling);
      if (options.json) {
        console.log(JSON.stringify(figures));
        return;
      }
      const how = sampling.temperature > 0 ? `, ${sampling.samples} samples per item at temperature ${sampling.temperature}` : ', greedy';
      console.log(`held-out score (${options.benchmark}${how}): ${figures.overall?.toFixed(4) ?? '?'}`);
      for (const [key, value] of Object.entries(figures)) if (key !== 'overall') console.log(`  ${key}: ${value.toFixed(4)}`);
    });
}
