// `lsp eval --checkpoint DIR`: the held-out score of a model folder, a checkpoint, or a run's latest checkpoint;
// with --pass-at-k, pass@k at the play temperature and greedy accuracy, per level.
import { InvalidInputError } from '@lsp/core';
import { isAdapterFolder } from '@lsp/model';
import type { Command } from 'commander';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { latestCheckpoint } from '../run/run-folder';
import { checkpointModelFolder } from '../selfplay/experiment';
import { evaluateCheckpoint, passAtKOfCheckpoint } from '../selfplay/evaluation';
import { formatPassAtKTable, passAtKValues } from '../selfplay/pass-at-k';
import { parseInteger, parseNumber, prepareRun } from './shared-options';

/** The model folder behind DIR: a model folder itself, a checkpoint folder, or a run folder (its latest checkpoint). */
export function modelFolderOf(directory: string): string {
  const path = resolve(directory);
  if (existsSync(join(path, 'config.json')) && existsSync(join(path, 'tokenizer.json'))) return path;
  if (isAdapterFolder(path)) return path;
  const checkpointModel = join(path, checkpointModelFolder);
  if (existsSync(join(checkpointModel, 'config.json')) || isAdapterFolder(checkpointModel)) return checkpointModel;
  const latest = existsSync(join(path, 'checkpoints')) ? latestCheckpoint(path) : undefined;
  if (latest) return join(latest.directory, checkpointModelFolder);
  throw new InvalidInputError(`${directory} holds no model: expected a model folder, a checkpoint or a run folder with a checkpoint`, {
    hint: 'pass runs/<run>, runs/<run>/checkpoints/iteration-N, or a Hugging Face model folder',
  });
}

/** Draws per item: a few for the sampled score, enough for pass@64 with --pass-at-k. */
const defaultSamples = 4;
const defaultPassAtKSamples = 64;

interface EvalOptions {
  checkpoint: string;
  benchmark: string;
  backend?: string;
  maxTokens: number;
  temperature?: number;
  samples?: number;
  seed: number;
  passAtK?: boolean;
  limit?: number;
  /** true: print the figures as JSON; a path: also write them there. */
  json?: boolean | string;
}

/** Lines on stderr at every tenth of the answers, so a long pass@k run shows it is moving. */
function progressPrinter(): (done: number, total: number) => void {
  let printedTenths = 0;
  return (done, total) => {
    const tenths = Math.floor((10 * done) / total);
    if (tenths <= printedTenths) return;
    printedTenths = tenths;
    process.stderr.write(`lsp: pass@k: ${done}/${total} answers (${tenths * 10}%)\n`);
  };
}

function writeJson(options: EvalOptions, figures: unknown): boolean {
  if (typeof options.json === 'string') {
    writeFileSync(options.json, `${JSON.stringify(figures, null, 2)}\n`);
    return false;
  }
  if (options.json) console.log(JSON.stringify(figures));
  return options.json === true;
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('print the held-out score of a checkpoint, a run (its latest checkpoint) or a model folder; with --pass-at-k, pass@k and greedy accuracy per level')
    .requiredOption('--checkpoint <dir>', 'a run folder, a checkpoint folder, or a model folder ("builtin" for the built-in model)')
    .option('--benchmark <name>', 'benchmark to evaluate', 'world')
    .option('--backend <name>', 'compute backend: auto, wasm, webgpu')
    .option('--max-tokens <n>', 'longest answer, in tokens', parseInteger('--max-tokens'), 64)
    .option('--temperature <t>', 'sample answers at this temperature (default: greedy; with --pass-at-k, the game\'s play temperature)', parseNumber('--temperature'))
    .option('--samples <n>', `answers drawn per item when sampling; an item scores the mean of its draws (default ${defaultSamples}; ${defaultPassAtKSamples} with --pass-at-k)`, parseInteger('--samples'))
    .option('--seed <n>', 'seed of the sampled answers', parseInteger('--seed'), 0)
    .option('--pass-at-k', `pass@k (k = ${passAtKValues.join(', ')}, up to --samples; the unbiased estimator) at the temperature, and greedy accuracy, per level`)
    .option('--limit <n>', 'only the first N items of every level', parseInteger('--limit'))
    .option('--json [file]', 'print the figures as JSON, or write them to FILE (with --pass-at-k: every item\'s correct draws too)')
    .action(async (options: EvalOptions, command: Command) => {
      if (options.temperature !== undefined && options.temperature < 0) throw new InvalidInputError(`--temperature must be 0 or more, got ${options.temperature}`);
      if (options.passAtK && options.temperature === 0) {
        throw new InvalidInputError('--pass-at-k draws answers at a temperature above 0, got --temperature 0', { hint: 'leave --temperature out for the play temperature, or pass one above 0' });
      }
      if (options.maxTokens < 1) throw new InvalidInputError(`--max-tokens must be at least 1, got ${options.maxTokens}`);
      if (options.samples !== undefined && options.samples < 1) throw new InvalidInputError(`--samples must be at least 1, got ${options.samples}`);
      if (options.limit !== undefined && options.limit < 1) throw new InvalidInputError(`--limit must be at least 1, got ${options.limit}`);
      if (options.json === '') throw new InvalidInputError('--json needs a file name, or no value to print the figures');
      const { resolved, registry } = await prepareRun(command, { backend: options.backend, benchmark: options.benchmark });
      const modelDirectory = options.checkpoint === 'builtin' ? 'builtin' : modelFolderOf(options.checkpoint);

      if (options.passAtK) {
        const figures = await passAtKOfCheckpoint(registry, resolved.config, modelDirectory, {
          samples: options.samples ?? defaultPassAtKSamples, temperature: options.temperature, seed: options.seed,
          maxNewTokens: options.maxTokens, limit: options.limit, onProgress: progressPrinter(),
        });
        if (writeJson(options, figures)) return;
        console.log(`pass@k (${options.benchmark}, ${figures.samples} samples per item at temperature ${figures.temperature}; greedy beside it)`);
        for (const line of formatPassAtKTable(figures)) console.log(`  ${line}`);
        if (typeof options.json === 'string') console.log(`figures and every item's correct draws: ${options.json}`);
        return;
      }

      const temperature = options.temperature ?? 0;
      const sampling = { temperature, samples: temperature > 0 ? options.samples ?? defaultSamples : 1, seed: options.seed };
      const figures = await evaluateCheckpoint(registry, resolved.config, modelDirectory, options.maxTokens, sampling, options.limit);
      if (writeJson(options, figures)) return;
      const how = sampling.temperature > 0 ? `, ${sampling.samples} samples per item at temperature ${sampling.temperature}` : ', greedy';
      console.log(`held-out score (${options.benchmark}${how}): ${figures.overall?.toFixed(4) ?? '?'}`);
      for (const [key, value] of Object.entries(figures)) if (key !== 'overall') console.log(`  ${key}: ${value.toFixed(4)}`);
      if (typeof options.json === 'string') console.log(`figures: ${options.json}`);
    });
}
