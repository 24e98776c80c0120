// An experiment from a resolved config: the backend, model, tokenizer, game, judge and benchmark it names, a run
// folder (new or resumed), the self-play loop with progress on the terminal, Ctrl-C handling, and the report.
import { createAdvantageMath } from '@lsp/advantage-wasm';
import {
  ConfigError, InvalidInputError, PluginError,
  type BenchmarkV1, type DeviceV1, type LspConfig, type PolicyModelV1, type TokenizerV1,
} from '@lsp/core';
import {
  baseFolderOf, createLoraState, isAdapterFolder, loadLoraAdapter, loadModel, parseLoraTargets,
  type LlamaModel, type LoraSettings,
} from '@lsp/model';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chooseBackend } from '../backend-choice';
import type { PluginRegistry } from '../plugins/plugin-registry';
import { writeReport } from '../report/run-report';
import { createRunFolder, defaultRunDirectory, latestCheckpoint, saveCheckpoint } from '../run/run-folder';
import { metricsFileName, readMetrics, readSamples, samplesFileName, type IterationMetrics } from '../run/run-metrics';
import { createBenchmark } from './benchmark-factory';
import { createRolloutProvider, type RetryPolicy } from './remote-rollouts';
import { runSelfPlay, type ProgressSample, type SelfPlayProgress } from './self-play-loop';

export const checkpointModelFolder = 'model';

/** The model folder a config names: 'builtin' is the built-in world's model shipped with @lsp/world. */
export async function resolveModelDirectory(model: string): Promise<string> {
  if (model === 'builtin') {
    const world = (await import('@lsp/world')) as { builtinModelDirectory?: () => string };
    const directory = world.builtinModelDirectory?.();
    if (!directory || !existsSync(join(directory, 'config.json'))) {
      throw new InvalidInputError('the built-in world model is missing', { hint: 'create it with `bun lsp pretrain`' });
    }
    return directory;
  }
  const directory = resolve(model);
  if (!existsSync(join(directory, 'config.json')) && !isAdapterFolder(directory)) {
    throw new InvalidInputError(`model folder ${model} has no config.json`, {
      hint: 'point --model at a Hugging Face model folder (config.json, model.safetensors, tokenizer.json) or a PEFT adapter folder',
    });
  }
  return directory;
}

/** The config as written to the run folder: plugin objects become their names. */
export function serialisableConfig(config: LspConfig, pluginNames: readonly string[]): Record<string, unknown> {
  return { ...config, plugins: [...pluginNames] };
}

/** Drops records after `iteration` from a JSONL file of the run (they are redone after a resume). */
function truncateAfter(path: string, iteration: number, records: readonly { iteration: number }[]): void {
  if (!existsSync(path)) return;
  const kept = records.filter((record) => record.iteration <= iteration);
  writeFileSync(path, kept.map((record) => `${JSON.stringify(record)}\n`).join(''));
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const minutes = Math.floor(seconds / 60);
  return minutes > 0 ? `${minutes}m${String(Math.round(seconds % 60)).padStart(2, '0')}s` : `${Math.round(seconds)}s`;
}

const phaseLabels: Record<string, string> = { generation: 'gen', quality: 'review', scoring: 'score', training: 'train' };

/** Tokens per second of each phase that handled tokens: "gen 812, review 95, score 4033, train 1710". */
export function phaseRates(m: IterationMetrics): string | undefined {
  const rates = Object.entries(m.phaseTokens ?? {})
    .filter(([phase, tokens]) => tokens > 0 && (m.phaseSeconds?.[phase] ?? 0) > 0)
    .map(([phase, tokens]) => `${phaseLabels[phase] ?? phase} ${Math.round(tokens / m.phaseSeconds![phase]!)}`);
  return rates.length > 0 ? rates.join(', ') : undefined;
}

/** One line of text, cut to `width` characters. */
function clip(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

/** The iteration's sample on one indented line: query, answer, R and RQ ("RQ 0 unparsed" when the review had no score). */
export function formatSample(sample: ProgressSample): string {
  const quality = sample.qualityReward === undefined
    ? ''
    : `  RQ ${Number.isInteger(sample.qualityReward) ? sample.qualityReward : sample.qualityReward.toFixed(2)}${sample.qualityParsed === false ? ' (unparsed)' : ''}`;
  return `  sample  Q: ${JSON.stringify(clip(sample.query, 70))}  A: ${JSON.stringify(clip(sample.answer, 70))}  R ${sample.reward.toFixed(3)}${quality}`;
}

export function formatProgress(progress: SelfPlayProgress, lastHeldOut: number | undefined): string {
  const { metrics: m } = progress;
  const parts = [
    `iter ${String(progress.iteration).padStart(String(progress.iterations).length)}/${progress.iterations}`,
  ];
  if (m.solverRewardMean !== undefined) parts.push(`solver ${m.solverRewardMean.toFixed(3)}`);
  if (m.challengerRewardMean !== undefined) parts.push(`challenger ${m.challengerRewardMean.toFixed(3)}`);
  if (m.qualityRewardMean !== undefined) parts.push(`quality ${m.qualityRewardMean.toFixed(2)}`);
  if (m.qualityUnparsedFraction !== undefined) parts.push(`unparsed ${m.qualityUnparsedFraction.toFixed(2)}`);
  if (m.answerLengthMean !== undefined) parts.push(`answer ${m.answerLengthMean.toFixed(1)} tok`);
  if (m.validQueryFraction !== undefined) parts.push(`valid ${m.validQueryFraction.toFixed(2)}`);
  if (m.queryDifficultyMean !== undefined) parts.push(`difficulty ${m.queryDifficultyMean.toFixed(2)}`);
  if (m.kl !== undefined) parts.push(`KL ${m.kl.toFixed(4)}`);
  if (lastHeldOut !== undefined) parts.push(`held-out ${lastHeldOut.toFixed(3)}`);
  if (m.tokensPerSecond !== undefined) parts.push(`${Math.round(m.tokensPerSecond)} tok/s`);
  const byPhase = phaseRates(m);
  if (byPhase) parts.push(`(${byPhase})`);
  parts.push(`left ${formatDuration((progress.iterations - progress.iteration) * progress.secondsPerIteration)}`);
  if (m.stepRefused) parts.push('STEP REFUSED');
  return parts.join('  ');
}

/** The LoRA settings of a config (alpha 2 * rank and every projection unless given). */
export function loraSettingsOf(lora: NonNullable<LspConfig['lora']>): LoraSettings {
  return {
    rank: lora.rank, alpha: lora.alpha ?? 2 * lora.rank, dropout: lora.dropout, rsLora: lora.rsLora,
    targets: parseLoraTargets(lora.targets ?? ['all']),
  };
}

/**
 * The policy (from the model folder, or the run's checkpoint when resuming) and the reference: with LoRA the
 * base with the adapters off (the same weights, no copy); otherwise a frozen copy of the starting weights.
 */
async function loadPolicyAndReference(
  config: LspConfig, device: DeviceV1, tokenizer: TokenizerV1, modelDirectory: string, checkpointDirectory: string | undefined,
): Promise<{ policy: LlamaModel; reference: LlamaModel }> {
  if (config.lora) {
    // A LoRA checkpoint is an adapter folder over the run's base model (the base of --model when that is itself an
    // adapter folder: the run trains that adapter on, and the reference is the base without it, as TRL's is).
    const policy = await loadModel(checkpointDirectory ? baseFolderOf(modelDirectory) : modelDirectory, { device, tokenizer });
    try {
      if (checkpointDirectory && isAdapterFolder(checkpointDirectory)) loadLoraAdapter(policy, checkpointDirectory, config.seed);
      else if (checkpointDirectory) throw new InvalidInputError(`${checkpointDirectory} holds full weights, not a LoRA adapter, but the run's config asks for LoRA`);
      else if (!policy.lora) policy.attachLora(createLoraState(device, policy.config, policy.parameters, loraSettingsOf(config.lora), config.seed), config.seed);
      return { policy, reference: policy.withoutAdapters() };
    } catch (error) {
      policy.dispose();
      throw error;
    }
  }
  const policy = await loadModel(checkpointDirectory ?? modelDirectory, { device, tokenizer });
  const reference = checkpointDirectory ? await loadModel(modelDirectory, { device, tokenizer }) : await policy.cloneFrozen();
  return { policy, reference };
}

function formatCount(count: number): string {
  return count >= 1e9 ? `${(count / 1e9).toFixed(2)}B` : count >= 1e6 ? `${(count / 1e6).toFixed(2)}M` : count >= 1e3 ? `${(count / 1e3).toFixed(1)}K` : String(count);
}

function formatBytes(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** The run's training line: what trains, of how many parameters, and the memory the weights and training state take. */
export function describeTraining(policy: LlamaModel): string {
  const summary = policy.parameterSummary();
  const share = `${formatCount(summary.trainable)} trainable of ${formatCount(summary.total)} parameters (${((100 * summary.trainable) / summary.total).toPrecision(3)}%)`;
  const memory = `weights ${formatBytes(summary.weightBytes)}, gradients and AdamW moments ${formatBytes(summary.trainingStateBytes)}`;
  const lora = policy.lora?.settings;
  if (lora) {
    const how = `LoRA r ${lora.rank}, alpha ${lora.alpha}${lora.rsLora ? ' (rsLoRA)' : ''}, dropout ${lora.dropout} on ${lora.targets.join(', ')}`;
    return `${how}: ${share}; ${memory}; the reference is the base with adapters off (no copy)`;
  }
  return `full fine-tuning: ${share}; ${memory}; reference copy ${formatBytes(summary.weightBytes)}`;
}

export interface ExperimentResult {
  runDirectory: string;
  lastIteration: number;
  stopped: boolean;
  metrics: IterationMetrics[];
}

export interface ExperimentOptions {
  config: LspConfig;
  registry: PluginRegistry;
  /** A run folder to continue; `iterations` extends it when given on the command line. */
  resume?: { directory: string; iterations?: number };
  /** Where lines go (the terminal by default). */
  print?: (line: string) => void;
  /** Stop request (Ctrl-C); installed by the command, injectable for tests. */
  stopRequested?: () => boolean;
  /** Retry budget of remote rollouts (tests shorten it). */
  rolloutRetry?: Partial<RetryPolicy>;
}

export async function runExperiment(options: ExperimentOptions): Promise<ExperimentResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const { registry } = options;
  let config = options.config;
  let runDirectory: string;
  let startIteration = 1;
  let elapsedSeconds = 0;
  let checkpointDirectory: string | undefined;
  if (options.resume) {
    runDirectory = resolve(options.resume.directory);
    const configPath = join(runDirectory, 'config.json');
    if (!existsSync(configPath)) throw new InvalidInputError(`${options.resume.directory} is not a run folder (no config.json)`, { hint: 'pass a folder written by `lsp run`' });
    const saved = JSON.parse(readFileSync(configPath, 'utf8')) as LspConfig;
    // The run continues as it was configured; only the iteration count may be changed from the command line.
    config = { ...saved, iterations: options.resume.iterations ?? saved.iterations, out: runDirectory };
    const latest = latestCheckpoint(runDirectory);
    if (latest) {
      startIteration = latest.state.iteration + 1;
      elapsedSeconds = latest.state.elapsedSeconds;
      checkpointDirectory = join(latest.directory, checkpointModelFolder);
      truncateAfter(join(runDirectory, metricsFileName), latest.state.iteration, readMetrics(runDirectory));
      truncateAfter(join(runDirectory, samplesFileName), latest.state.iteration, readSamples(runDirectory));
      print(`lsp: resuming ${runDirectory} after iteration ${latest.state.iteration}`);
    } else {
      truncateAfter(join(runDirectory, metricsFileName), -1, readMetrics(runDirectory));
      truncateAfter(join(runDirectory, samplesFileName), -1, readSamples(runDirectory));
      print(`lsp: ${runDirectory} has no checkpoint yet; starting it from the beginning`);
    }
  } else {
    runDirectory = resolve(config.out ?? defaultRunDirectory(config.game, config.seed));
    if (existsSync(join(runDirectory, metricsFileName))) {
      throw new ConfigError(`${runDirectory} already holds a run`, { hint: 'continue it with --resume, or choose another --out' });
    }
    config = { ...config, out: runDirectory };
  }

  const backend = await chooseBackend(registry, config.backend);
  const modelDirectory = await resolveModelDirectory(config.model);
  const tokenizerLoader = registry.components('tokenizers')[0]?.component;
  if (!tokenizerLoader) throw new PluginError('no tokenizer plugin is installed', { hint: 'install @lsp/tokenizer-wasm (bun install)' });
  const game = await registry.get('games', config.game).create({ ...config.training, ...config.gameOptions, seed: config.seed });
  const judge = await registry.get('judges', config.judge).create(config.judgeOptions);
  const benchmark: BenchmarkV1 | undefined = config.benchmark === 'none' ? undefined : await createBenchmark(registry, config, config.benchmark, config.benchmarkOptions);
  const advantageMath = await createAdvantageMath('wasm');

  let device: DeviceV1 | undefined;
  let tokenizer: TokenizerV1 | undefined;
  let policy: PolicyModelV1 | undefined;
  let reference: PolicyModelV1 | undefined;
  try {
    device = await backend.createDevice();
    tokenizer = await tokenizerLoader.load(baseFolderOf(modelDirectory));
    const loaded = await loadPolicyAndReference(config, device, tokenizer, modelDirectory, checkpointDirectory);
    policy = loaded.policy;
    reference = loaded.reference;
    const rollouts = await createRolloutProvider(config, {
      policy, reference, tokenizer, runDirectory, lora: Boolean(loaded.policy.lora), log: (line) => print(`lsp: ${line}`),
      ...(options.rolloutRetry ? { retry: options.rolloutRetry } : {}),
    });
    if (!options.resume) createRunFolder(runDirectory, serialisableConfig(config, registry.plugins.map(({ plugin }) => plugin.name)));
    print(`lsp: run folder ${runDirectory}`);
    if (rollouts) print(`lsp: rollouts on ${config.rolloutUrl} (model ${rollouts.modelId}; ${rollouts.reloadMethod === 'none' ? 'stale policy: weights are not reloaded' : rollouts.reloadMethod === 'lora' ? 'the adapter is loaded there after every step' : 'the policy is reloaded there after every step'})`);
    print(`lsp: ${game.name} on ${device.info.description}; model ${modelDirectory}; N ${game.settings.queriesPerIteration}, G ${game.settings.answersPerQuery}, ` +
      `beta ${game.settings.klCoefficient}, learning rate ${game.settings.learningRate}`);
    print(`lsp: ${describeTraining(loaded.policy)}`);

    let lastHeldOut: number | undefined = readMetrics(runDirectory).filter((m) => m.heldOutScore !== undefined).at(-1)?.heldOutScore;
    const trainedPolicy = policy;
    const result = await runSelfPlay(
      { policy, reference, tokenizer, game, judge, benchmark, advantageMath, ...(rollouts ? { rollouts } : {}) },
      {
        config, runDirectory, startIteration, elapsedSeconds,
        stopRequested: options.stopRequested ?? (() => false),
        saveCheckpoint: async (iteration, elapsed) => {
          await saveCheckpoint(runDirectory, { iteration, elapsedSeconds: elapsed }, (directory) =>
            trainedPolicy.save(join(directory, checkpointModelFolder), { exact: true }));
        },
        onEvaluation: (iteration, figures, sampled) => {
          lastHeldOut = figures.overall;
          const describe = (scores: Record<string, number>) => {
            const levels = Object.entries(scores).filter(([key]) => key !== 'overall').map(([key, value]) => `${key} ${value.toFixed(2)}`);
            return `${scores.overall?.toFixed(3) ?? '?'}${levels.length > 0 ? ` (${levels.join(', ')})` : ''}`;
          };
          print(`held-out after iteration ${iteration}: ${describe(figures)}` +
            (sampled ? `; sampled (${config.evaluateSamples} per item at temperature ${game.settings.temperature}): ${describe(sampled)}` : ''));
        },
        onProgress: (progress) => {
          print(formatProgress(progress, lastHeldOut));
          if (progress.sample) print(formatSample(progress.sample));
        },
        log: (line) => print(`lsp: ${line}`),
      },
    );
    const metrics = readMetrics(runDirectory);
    const reportPath = writeReport(runDirectory, {
      title: `LSP run: ${config.game} / ${config.judge} / ${config.model} (seed ${config.seed})`,
      config: serialisableConfig(config, registry.plugins.map(({ plugin }) => plugin.name)),
      metrics,
      samples: readSamples(runDirectory),
    });
    print(result.stopped ? `lsp: stopped after iteration ${result.lastIteration}; continue with --resume ${runDirectory}` : `lsp: finished ${result.lastIteration} iterations`);
    print(`lsp: report ${reportPath}`);
    return { runDirectory, lastIteration: result.lastIteration, stopped: result.stopped, metrics };
  } finally {
    reference?.dispose();
    policy?.dispose();
    tokenizer?.dispose();
    device?.dispose();
  }
}
