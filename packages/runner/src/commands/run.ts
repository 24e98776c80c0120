// `lsp run` (also what `lsp` with no command does): resolves the experiment and runs it to its report.
import { ConfigError, configSchema, type LspConfig } from '@lsp/core';
import type { Command } from 'commander';
import { judgeOptionsWithFlags } from '../judge/judge-file';
import { runExperiment } from '../selfplay/experiment';
import { collect, parseInteger, parseNumber, prepareRun } from './shared-options';

interface RunOptions {
  game?: string;
  judge?: string;
  judgeModel?: string;
  model?: string;
  backend?: string;
  iterations?: number;
  seed?: number;
  out?: string;
  resume?: string;
  rollouts?: string;
  rolloutUrl?: string;
  rolloutApiKeyEnv?: string;
  rolloutModel?: string;
  rolloutStalePolicy?: boolean;
  rolloutWeightsDir?: string;
  loraRank?: number;
  loraAlpha?: number;
  loraDropout?: number;
  loraTargets?: string;
}

/** lsp.config.ts's `lora` with the --lora-* flags applied (flags win); checked as the config is. */
export function loraWithFlags(config: LspConfig, flags: Pick<RunOptions, 'loraRank' | 'loraAlpha' | 'loraDropout' | 'loraTargets'>): LspConfig['lora'] {
  const given = {
    ...(flags.loraRank !== undefined ? { rank: flags.loraRank } : {}),
    ...(flags.loraAlpha !== undefined ? { alpha: flags.loraAlpha } : {}),
    ...(flags.loraDropout !== undefined ? { dropout: flags.loraDropout } : {}),
    ...(flags.loraTargets !== undefined ? { targets: flags.loraTargets.split(',').map((name) => name.trim()).filter(Boolean) } : {}),
  };
  if (Object.keys(given).length === 0) return config.lora;
  if (!config.lora && given.rank === undefined) {
    throw new ConfigError('--lora-alpha, --lora-dropout and --lora-targets need --lora-rank (or lora: { rank } in lsp.config.ts)');
  }
  const parsed = configSchema.shape.lora.safeParse({ ...config.lora, ...given });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? 'rank');
    throw new ConfigError(`--lora-${field === 'rsLora' ? 'rs-lora' : field}: ${issue.message}`);
  }
  return parsed.data;
}

export function addRunOptions(command: Command): Command {
  return command
    .option('--game <name>', 'game to play: lsp, lsp-zero, grpo, or one a plugin adds')
    .option('--judge <name>', 'judge that scores answers')
    .option('--judge-model <dir>', 'the judge\'s model folder (judgeOptions.model): the reward-model judge\'s *ForSequenceClassification folder')
    .option('--model <dir>', 'Hugging Face model folder, or "builtin"')
    .option('--lora-rank <r>', 'train LoRA adapters of rank R instead of every weight (lora.rank)', parseInteger('--lora-rank'))
    .option('--lora-alpha <a>', 'LoRA alpha (scaling alpha / r; default 2 * rank)', parseNumber('--lora-alpha'))
    .option('--lora-dropout <p>', 'dropout on the adapters\' input while training (default 0)', parseNumber('--lora-dropout'))
    .option('--lora-targets <list>', 'projections to adapt, comma-separated: q,k,v,o,gate,up,down or all (default all)')
    .option('--backend <name>', 'compute backend: auto, wasm, webgpu, or one a plugin adds')
    .option('--iterations <n>', 'self-play iterations', parseInteger('--iterations'))
    .option('--seed <n>', 'random seed', parseInteger('--seed'))
    .option('--out <dir>', 'output folder for the run (default runs/<time>-<game>-seed<seed>)')
    .option('--resume <dir>', 'continue the run in this folder from its latest checkpoint')
    .option('--rollouts <where>', 'where the Challenger and Solver generate: local, or openai (an OpenAI-compatible server)')
    .option('--rollout-url <url>', 'the rollout server\'s base URL, e.g. http://gpu-box:8000/v1')
    .option('--rollout-api-key-env <name>', 'environment variable holding the rollout server\'s key')
    .option('--rollout-model <id>', 'model id to ask the rollout server for (default: the one it lists)')
    .option('--rollout-stale-policy', 'accept a rollout server that cannot reload the policy (off-policy rollouts)')
    .option('--rollout-weights-dir <dir>', 'folder the policy is saved to for the server to reload (default <run>/rollout-weights)');
}

export function registerRunCommand(program: Command): void {
  addRunOptions(program.command('run').description('run an experiment (the default command)'))
    .option('--plugin <name>', 'load a plugin by name or path (repeatable)', collect)
    .action(async (options: RunOptions, command: Command) => runCommand(options, command));
}

/** Ctrl-C once: finish the iteration, save a checkpoint and stop; twice: quit at once. */
function installStopHandler(print: (line: string) => void): { stopRequested: () => boolean; remove: () => void } {
  let requested = false;
  const handler = () => {
    if (requested) {
      print('lsp: quitting without saving (the last checkpoint is kept)');
      process.exit(130);
    }
    requested = true;
    print('lsp: stopping after this iteration and saving a checkpoint (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stopRequested: () => requested,
    remove: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

export async function runCommand(ownOptions: RunOptions, command: Command): Promise<void> {
  // `lsp --seed 1 run` and `lsp run --seed 1` both work: the program and `run` share these flags, and commander
  // keeps a flag on whichever command parsed it.
  const options = { ...command.optsWithGlobals(), ...definedOnly(ownOptions) } as RunOptions;
  const { resolved, registry } = await prepareRun(command, {
    game: options.game,
    judge: options.judge,
    model: options.model,
    backend: options.backend,
    iterations: options.iterations,
    seed: options.seed,
    out: options.out,
    rollouts: options.rollouts,
    rolloutUrl: options.rolloutUrl,
    rolloutApiKeyEnv: options.rolloutApiKeyEnv,
    rolloutModel: options.rolloutModel,
    rolloutStalePolicy: options.rolloutStalePolicy,
    rolloutWeightsDir: options.rolloutWeightsDir,
  });
  // --judge-model adds to lsp.config.ts's judgeOptions; the reward-model judge runs on the run's backend by default.
  resolved.config.judgeOptions = judgeOptionsWithFlags(resolved.config, { judgeModel: options.judgeModel });
  const lora = loraWithFlags(resolved.config, options);
  if (lora) resolved.config.lora = lora;
  for (const warning of registry.warnings) console.error(`lsp: warning: ${warning.message}`);
  const print = (line: string) => console.log(line);
  const stop = installStopHandler(print);
  try {
    const result = await runExperiment({
      config: resolved.config,
      registry,
      ...(options.resume ? { resume: { directory: options.resume, ...(options.iterations ? { iterations: options.iterations } : {}) } } : {}),
      print,
      stopRequested: stop.stopRequested,
    });
    if (result.stopped) process.exitCode = 130;
  } finally {
    stop.remove();
  }
}

function definedOnly<T extends object>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}
