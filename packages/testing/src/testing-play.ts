// Plays a few self-play iterations with the plugins under test through the runner's own experiment (the same loop,
// run folder and metrics as `bun lsp`), on the built-in world, and returns what the run recorded.
import backendWasm from '@lsp/backend-wasm';
import { ConfigError, type LspConfig, type PluginV1 } from '@lsp/core';
import gameLsp from '@lsp/game-lsp';
import {
  PluginRegistry, evaluateCheckpoint, readMetrics, readSamples, runExperiment, validateConfig, validatePlugin,
  type IterationMetrics, type IterationSample,
} from '@lsp/runner';
import tokenizerWasm from '@lsp/tokenizer-wasm';
import world from '@lsp/world';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeTinyModel } from './testing-model';

/** Training settings small enough for a test: 4 queries, 4 answers each, answers of at most 16 tokens. */
export const testingTraining = { queriesPerIteration: 4, answersPerQuery: 4, maxNewTokens: 16 } as const;

export interface PlayOptions {
  /** The plugins under test; they are loaded before the kit's own, so their components win a shared name. */
  plugins?: readonly PluginV1[];
  /** Default 'lsp'. */
  game?: string;
  /** Default 'world' (the built-in rule judge). */
  judge?: string;
  /** A held-out benchmark scored at iteration 0, every `evaluateEvery` iterations and at the end. Default 'none'. */
  benchmark?: string;
  /** Default 'wasm' (the CPU backend). */
  backend?: string;
  /** 'builtin' (the world's pretrained model, the default), 'tiny' (a random two-layer model) or a model folder. */
  model?: string;
  /** Default 3. */
  iterations?: number;
  /** Default 0. */
  seed?: number;
  /** Over `testingTraining` and the built-in model's preset. */
  training?: Record<string, unknown>;
  gameOptions?: Record<string, unknown>;
  judgeOptions?: Record<string, unknown>;
  evaluateEvery?: number;
  /** Any other field of lsp.config.ts. */
  config?: Record<string, unknown>;
  /** Keep the run folder here; by default it is written to a temporary folder and removed. */
  out?: string;
  /** The runner's progress lines; dropped by default. */
  print?: (line: string) => void;
}

export interface PlayResult {
  /** One record per iteration as in metrics.jsonl (iteration 0, the starting held-out score, only with a benchmark). */
  metrics: IterationMetrics[];
  /** The records of samples.jsonl: a few queries per iteration with answers and rewards. */
  samples: IterationSample[];
  /** The resolved config the run used. */
  config: LspConfig;
  /** The run folder when `out` was given (else it is gone). */
  runDirectory: string | undefined;
}

/** The first-party plugins every play needs: the CPU backend, the tokenizer, lsp's games and the world. */
export function kitPlugins(): PluginV1[] {
  return [backendWasm(), tokenizerWasm(), gameLsp(), world()];
}

/** A registry holding the plugins under test (checked as the runner checks them), then the kit's own. */
export function testingRegistry(plugins: readonly PluginV1[] = []): PluginRegistry {
  const registry = new PluginRegistry();
  plugins.forEach((plugin, index) => {
    const label = typeof (plugin as { name?: unknown })?.name === 'string' ? plugin.name : `plugins[${index}]`;
    registry.add(validatePlugin(plugin, label), 'config');
  });
  for (const plugin of kitPlugins()) registry.add(plugin, 'config');
  return registry;
}

async function modelFolder(model: string, scratch: string): Promise<string> {
  if (model === 'tiny') return writeTinyModel(join(scratch, 'tiny-model'));
  return model === 'builtin' ? model : resolve(model);
}

function playConfig(options: PlayOptions, model: string, out: string): LspConfig {
  if (options.iterations !== undefined && !(Number.isInteger(options.iterations) && options.iterations > 0)) {
    throw new ConfigError(`playGame: iterations must be a positive whole number, got ${String(options.iterations)}`);
  }
  return validateConfig(
    {
      ...options.config,
      game: options.game ?? 'lsp',
      judge: options.judge ?? 'world',
      benchmark: options.benchmark ?? 'none',
      backend: options.backend ?? 'wasm',
      model,
      iterations: options.iterations ?? 3,
      seed: options.seed ?? 0,
      training: { ...testingTraining, ...options.training },
      ...(options.gameOptions ? { gameOptions: options.gameOptions } : {}),
      ...(options.judgeOptions ? { judgeOptions: options.judgeOptions } : {}),
      ...(options.evaluateEvery ? { evaluateEvery: options.evaluateEvery } : {}),
      out,
    },
    {},
    'playGame',
  );
}

/**
 * Runs `iterations` self-play iterations of `game` with `judge` (and `benchmark`) on the built-in world's model and
 * returns the metrics and samples, so a game, judge or benchmark is tested without writing a model or a loop.
 */
export async function playGame(options: PlayOptions = {}): Promise<PlayResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'lsp-testing-'));
  try {
    const runDirectory = options.out ? resolve(options.out) : join(scratch, 'run');
    const config = playConfig(options, await modelFolder(options.model ?? 'builtin', scratch), runDirectory);
    await runExperiment({ config, registry: testingRegistry(options.plugins), print: options.print ?? (() => {}) });
    return {
      metrics: readMetrics(runDirectory),
      samples: readSamples(runDirectory),
      config,
      runDirectory: options.out ? runDirectory : undefined,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface BenchmarkScoreOptions {
  /** The plugins under test (the one providing the benchmark). */
  plugins?: readonly PluginV1[];
  benchmark: string;
  benchmarkOptions?: Record<string, unknown>;
  /** 'builtin' (default), 'tiny' or a model folder. */
  model?: string;
  /** The game whose Solver prompt the items are asked in. Default 'lsp'. */
  game?: string;
  backend?: string;
  /** Default 16. */
  maxNewTokens?: number;
}

/** A benchmark's figures (greedy answers) for the model, as `lsp eval` computes them. */
export async function scoreBenchmark(options: BenchmarkScoreOptions): Promise<Record<string, number>> {
  const scratch = mkdtempSync(join(tmpdir(), 'lsp-testing-'));
  try {
    const model = await modelFolder(options.model ?? 'builtin', scratch);
    const config = validateConfig(
      {
        model, benchmark: options.benchmark, game: options.game ?? 'lsp', backend: options.backend ?? 'wasm',
        ...(options.benchmarkOptions ? { benchmarkOptions: options.benchmarkOptions } : {}),
      },
      {},
      'scoreBenchmark',
    );
    return await evaluateCheckpoint(testingRegistry(options.plugins), config, model, options.maxNewTokens ?? 16);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
