// `lsp pretrain`: produces the built-in world's small model (tokenizer, weights, pretrain.json) with progress on
// the terminal. The logic is @lsp/pretrain's runPretraining; this file parses flags and prints.
import { ConfigError } from '@lsp/core';
import { formatDuration, parseCurriculum, readPretrainSettings, runPretraining, type PretrainProgress, type PretrainReport } from '@lsp/pretrain';
import { builtinModelDirectory } from '@lsp/world';
import type { Command } from 'commander';
import { parseInteger, parseNumber } from './shared-options';
import { openModelDevice } from './score';

interface PretrainFlags {
  out?: string;
  steps: number;
  minutes?: number;
  seed?: number;
  backend?: string;
  batchSize: number;
  learningRate: number;
  hiddenSize: number;
  layers: number;
  heads: number;
  intermediateSize: number;
  vocabSize: number;
  dtype: string;
  evaluate: boolean;
  from?: string;
  resume?: boolean;
  checkpointEvery: number;
  settings?: string;
  curriculum?: string;
}

function printProgress(progress: PretrainProgress): void {
  const width = String(progress.steps).length;
  process.stderr.write(
    `step ${String(progress.step).padStart(width)}/${progress.steps}  loss ${progress.loss.toFixed(4)} (solver ${progress.solverLoss.toFixed(4)})  lr ${progress.learningRate.toExponential(2)}  ` +
      `${Math.round(progress.tokensPerSecond)} tok/s  elapsed ${formatDuration(progress.elapsedSeconds)}  left ${formatDuration(progress.remainingSeconds)}\n`,
  );
}

function printReport(report: PretrainReport): void {
  const lines = [
    `model: ${report.directory}`,
    `  ${(report.parameters / 1e6).toFixed(2)}M parameters (${report.dtype}), vocabulary ${report.vocabularySize}, ${report.steps} steps of ${report.batchSize} in ${formatDuration(report.seconds)}, ${Math.round(report.tokensPerSecond)} tokens/s`,
    `  loss ${report.initialLoss.toFixed(3)} -> ${report.finalLoss.toFixed(3)} (solver answers ${report.finalSolverLoss.toFixed(3)})`,
  ];
  if (report.heldOut) {
    const { scores } = report.heldOut;
    const levels = Object.keys(scores).filter((key) => key.startsWith('level-')).map((key) => `${key.slice(6)}: ${(100 * scores[key]!).toFixed(0)}%`);
    lines.push(`  held-out accuracy (greedy): overall ${(100 * scores.overall!).toFixed(1)}%  by level ${levels.join('  ')}`);
  }
  for (const challenger of report.challenger ?? []) {
    const shown = challenger.samples.slice(0, 4).map((sample) => JSON.stringify(sample.text)).join(', ');
    lines.push(`  challenger (temperature ${challenger.temperature}): ${(100 * challenger.validFraction).toFixed(0)}% valid of ${challenger.samples.length}, mean level ${challenger.meanLevel.toFixed(2)}; e.g. ${shown}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

export function registerPretrainCommand(program: Command): void {
  program
    .command('pretrain')
    .description('train the built-in world\'s small model (tokenizer and weights) from generated tasks')
    .option('--out <dir>', 'model folder to write (default: the built-in model, plugins/world/model)')
    .option('--steps <n>', 'optimizer steps', parseInteger('--steps'), 7500)
    .option('--minutes <m>', 'stop after this many minutes of training, annealing the learning rate to fit', parseNumber('--minutes'))
    .option('--seed <s>', 'seed of the data, the tokenizer and the initial weights (default 1)', parseInteger('--seed'))
    .option('--backend <name>', 'compute backend: wasm, auto (default), or oracle (float64 reference, slow)')
    .option('--batch-size <n>', 'sequences per step', parseInteger('--batch-size'), 32)
    .option('--learning-rate <lr>', 'peak AdamW learning rate (warmup, then cosine to a tenth)', parseNumber('--learning-rate'), 3e-3)
    .option('--hidden-size <n>', 'model width', parseInteger('--hidden-size'), 128)
    .option('--layers <n>', 'transformer layers', parseInteger('--layers'), 4)
    .option('--heads <n>', 'attention heads', parseInteger('--heads'), 4)
    .option('--intermediate-size <n>', 'SwiGLU width', parseInteger('--intermediate-size'), 384)
    .option('--vocab-size <n>', 'tokenizer vocabulary (260: bytes and special tokens, no merges)', parseInteger('--vocab-size'), 260)
    .option('--dtype <type>', 'storage of the saved weights: f16 or f32 (training is f32 either way)', 'f16')
    .option('--from <dir>', 'continue training this model folder (its tokenizer and weights) instead of starting afresh')
    .option('--no-evaluate', 'skip the held-out evaluation and Challenger samples')
    .option('--checkpoint-every <n>', 'save a checkpoint (weights, AdamW state, losses) to <out>.checkpoint every N steps; 0 never', parseInteger('--checkpoint-every'), 250)
    .option('--resume', 'continue from <out>.checkpoint where the run stopped (its recorded settings win)')
    .option('--curriculum <stages>', 'levels drawn at each stage: "staged" (operations on short inputs first, then compositions up to level 5), "single" (the Solver on levels 1-2 throughout, the default), or FROM:LEVELS[/CHALLENGER_LEVELS] stages separated by ";" (e.g. "0:1;0.2:1,2,2;0.5:1,2,3,4,5")')
    .option('--settings <pretrain.json>', 'rerun with the settings a finished folder recorded (seed, steps, batch, learning rate, shape, vocabulary, dtype, curriculum)')
    .action(async (_flags: unknown, command: Command) => {
      // --out, --seed and --backend are also the root's (for `lsp run`): read them merged with the root's.
      const flags = command.optsWithGlobals() as PretrainFlags;
      if (flags.dtype !== 'f16' && flags.dtype !== 'f32') throw new ConfigError(`--dtype must be f16 or f32, got "${flags.dtype}"`);
      if (flags.minutes !== undefined && !(flags.minutes > 0)) throw new ConfigError(`--minutes must be positive, got ${flags.minutes}`);
      const backend = flags.backend ?? 'auto';
      if (!['wasm', 'auto', 'oracle', 'webgpu'].includes(backend)) {
        throw new ConfigError(`--backend must be wasm, auto, webgpu or oracle, got "${backend}"`);
      }
      const curriculum = flags.curriculum !== undefined ? parseCurriculum(flags.curriculum) : undefined;
      const recorded = flags.settings !== undefined ? readPretrainSettings(flags.settings) : {};
      const device = await openModelDevice(backend);
      // Ctrl-C once: save a checkpoint after the step in progress and stop; twice: quit at once.
      let stopRequested = false;
      const onSignal = () => {
        if (stopRequested) process.exit(130);
        stopRequested = true;
        process.stderr.write('pretrain: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n');
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const out = flags.out ?? builtinModelDirectory();
        const report = await runPretraining({
          outDirectory: out,
          device,
          steps: flags.steps,
          ...(flags.minutes !== undefined ? { maxSeconds: flags.minutes * 60 } : {}),
          seed: flags.seed ?? 1,
          batchSize: flags.batchSize,
          learningRate: flags.learningRate,
          shape: { hiddenSize: flags.hiddenSize, layers: flags.layers, heads: flags.heads, intermediateSize: flags.intermediateSize, contextLength: 256 },
          vocabularySize: flags.vocabSize,
          dtype: flags.dtype === 'f16' ? 'float16' : 'float32',
          evaluate: flags.evaluate,
          ...(flags.from !== undefined ? { fromDirectory: flags.from } : {}),
          ...(curriculum !== undefined ? { curriculum } : {}),
          ...recorded,
          checkpointEvery: flags.checkpointEvery,
          ...(flags.resume ? { resume: true } : {}),
          stopRequested: () => stopRequested,
          onProgress: printProgress,
          onNote: (note) => process.stderr.write(`${note}\n`),
        });
        if (report) printReport(report);
        else process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        device.dispose();
      }
    });
}
