// `lsp pretrain`'s logic: tokenizer, initial weights, supervised training on the world's examples (completion
// tokens only), held-out evaluation, and the finished folder renamed into place only when everything succeeded.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { InvalidInputError, type DeviceV1 } from '@lsp/core';
import { loadModel, parseModelConfig, readModelConfig } from '@lsp/model';
import { loadTokenizer } from '@lsp/tokenizer-wasm';
import { checkCurriculum, describeCurriculum, type CurriculumStage } from './pretrain-curriculum';
import { pretrainingBatches, type EncodedExample } from './pretrain-data';
import { evaluateHeldOut, sampleChallenger, type ChallengerSamples, type HeldOutScores } from './pretrain-evaluate';
import { defaultWorldModelShape, parameterCount, worldModelConfig, writeInitialModel, type WorldModelShape } from './pretrain-model-config';
import { learningRateAt } from './pretrain-schedule';
import { defaultWorldVocabularySize, worldSpecialTokens, writeWorldTokenizer } from './pretrain-tokenizer';

export interface PretrainOptions {
  /** The model folder to produce (replaced when it exists). */
  outDirectory: string;
  device: DeviceV1;
  /** Optimizer steps (the schedule's length). */
  steps: number;
  /** Stops early after this many seconds of training, annealing the schedule to fit; 0 means no limit. */
  maxSeconds?: number;
  seed?: number;
  batchSize?: number;
  learningRate?: number;
  warmupSteps?: number;
  weightDecay?: number;
  shape?: WorldModelShape;
  vocabularySize?: number;
  /**
   * Continue from this model folder (its tokenizer, config and weights; the optimizer starts afresh) instead of a
   * new tokenizer and random weights. Shape, vocabulary and dtype then come from the folder.
   */
  fromDirectory?: string;
  /** Storage dtype of the weights in the folder (the model trains in f32 either way). */
  dtype?: 'float32' | 'float16';
  /** Levels drawn at each stage of the run (default: the Solver on levels 1-2, the Challenger on 1-3, throughout). */
  curriculum?: CurriculumStage[];
  /** Evaluate on the held-out set (all of it unless `heldOutPerLevel`) and sample the Challenger. Default true. */
  evaluate?: boolean;
  heldOutPerLevel?: number;
  /** Seconds between progress reports (default 5). */
  progressSeconds?: number;
  onProgress?: (progress: PretrainProgress) => void;
  /** One-line notes on what is happening (tokenizer trained, model saved, evaluating). */
  onNote?: (note: string) => void;
  /**
   * Save a checkpoint (weights, AdamW state, the loss record, the step) beside the target, in `<out>.checkpoint`,
   * every this many steps; 0 never. Default 250. The checkpoint is removed once the folder is finished.
   */
  checkpointEvery?: number;
  /**
   * Continue from `<out>.checkpoint` exactly where it stopped: its recorded settings override these options (the
   * data stream is replayed to its step, so a run without a time limit continues as if never stopped).
   */
  resume?: boolean;
  /** Asked after every step: true saves a checkpoint and stops (Ctrl-C); runPretraining then returns undefined. */
  stopRequested?: () => boolean;
}

/** What `<out>.checkpoint/state.json` records: enough to continue the run exactly. */
export interface PretrainCheckpointState {
  version: 1;
  step: number;
  trainingSeconds: number;
  tokens: number;
  losses: { step: number; loss: number; solverLoss: number }[];
  settings: {
    steps: number; seed: number; batchSize: number; learningRate: number; warmupSteps: number; weightDecay: number;
    maxSeconds: number; shape: WorldModelShape; dtype: 'float32' | 'float16'; fromDirectory?: string;
    curriculum?: CurriculumStage[];
  };
}

/** The settings a finished folder's pretrain.json records, as options: what `lsp pretrain --settings FILE` reruns. */
export type RecordedSettings = Pick<PretrainOptions, 'steps' | 'seed' | 'batchSize' | 'learningRate' | 'warmupSteps' | 'weightDecay' | 'maxSeconds' | 'shape' | 'vocabularySize' | 'dtype' | 'curriculum'>;

export function readPretrainSettings(file: string): RecordedSettings {
  let record: Partial<PretrainReport> & { settings?: Partial<PretrainReport['settings']> };
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as typeof record;
  } catch (error) {
    throw new InvalidInputError(`${file}: ${existsSync(file) ? 'not valid JSON' : 'not found'}`, { hint: 'pass the pretrain.json of a folder lsp pretrain wrote' });
  }
  const settings = record?.settings;
  const number = (value: unknown, field: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidInputError(`${file}: field "${field}" is missing or not a number`, { hint: 'pass the pretrain.json of a folder lsp pretrain wrote' });
    return value;
  };
  if (typeof settings !== 'object' || settings === null || typeof record.shape !== 'object' || record.shape === null) {
    throw new InvalidInputError(`${file}: has no "settings" and "shape" (not a pretrain.json this version writes)`);
  }
  const shape = record.shape;
  return {
    steps: number(settings.plannedSteps, 'settings.plannedSteps'), seed: number(settings.seed, 'settings.seed'),
    batchSize: number(record.batchSize, 'batchSize'), learningRate: number(settings.learningRate, 'settings.learningRate'),
    warmupSteps: number(settings.warmupSteps, 'settings.warmupSteps'), weightDecay: number(settings.weightDecay, 'settings.weightDecay'),
    maxSeconds: number(settings.maxSeconds, 'settings.maxSeconds'),
    shape: {
      hiddenSize: number(shape.hiddenSize, 'shape.hiddenSize'), layers: number(shape.layers, 'shape.layers'), heads: number(shape.heads, 'shape.heads'),
      intermediateSize: number(shape.intermediateSize, 'shape.intermediateSize'), contextLength: number(shape.contextLength, 'shape.contextLength'),
    },
    vocabularySize: number(record.vocabularySize, 'vocabularySize'),
    dtype: record.dtype === 'float32' ? 'float32' : 'float16',
    ...(settings.curriculum !== undefined ? { curriculum: checkCurriculum(settings.curriculum, `${file}: settings.curriculum`) } : {}),
  };
}

/** The checkpoint folder of a pretraining run writing `outDirectory`. */
export function pretrainCheckpointDirectory(outDirectory: string): string {
  return `${resolve(outDirectory)}.checkpoint`;
}

/** The checkpoint's state, checked; one line naming the file otherwise. */
export function readPretrainCheckpoint(outDirectory: string): PretrainCheckpointState {
  const directory = pretrainCheckpointDirectory(outDirectory);
  const file = join(directory, 'state.json');
  if (!existsSync(file)) {
    throw new InvalidInputError(`pretrain --resume: no checkpoint at ${directory}`, { hint: 'start the run without --resume (checkpoints are written every --checkpoint-every steps)' });
  }
  let state: PretrainCheckpointState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as PretrainCheckpointState;
  } catch {
    throw new InvalidInputError(`${file}: not valid JSON`, { hint: 'the checkpoint is damaged; start the run again without --resume' });
  }
  if (state?.version !== 1 || !Number.isInteger(state.step) || state.step < 1 || typeof state.settings !== 'object' || !Array.isArray(state.losses)) {
    throw new InvalidInputError(`${file}: not a pretraining checkpoint this version writes`, { hint: 'start the run again without --resume' });
  }
  // A report without Solver tokens has a NaN Solver loss, which JSON wrote as null.
  return { ...state, losses: state.losses.map((entry) => ({ ...entry, solverLoss: entry.solverLoss ?? Number.NaN })) };
}

export interface PretrainProgress {
  step: number;
  steps: number;
  /** Mean completion-token cross-entropy (nats) since the last report. */
  loss: number;
  /**
   * The same over the Solver's answer tokens only: the Challenger's completions are random tasks whose letters
   * cannot be predicted, so the overall loss has a floor far above zero while this one does not.
   */
  solverLoss: number;
  learningRate: number;
  /** Completion and prompt tokens (no padding) per second since the last report. */
  tokensPerSecond: number;
  elapsedSeconds: number;
  /** Estimated seconds of training left. */
  remainingSeconds: number;
}

export interface PretrainReport {
  directory: string;
  vocabularySize: number;
  parameters: number;
  dtype: string;
  shape: WorldModelShape;
  steps: number;
  batchSize: number;
  seconds: number;
  tokens: number;
  tokensPerSecond: number;
  /** Loss of the first report and the mean over the last 10% of steps. */
  initialLoss: number;
  finalLoss: number;
  /** Mean solver-token loss over the last 10% of steps. */
  finalSolverLoss: number;
  losses: { step: number; loss: number; solverLoss: number }[];
  device: string;
  /** What else decided the run, so it can be repeated. */
  settings: {
    seed: number; learningRate: number; warmupSteps: number; weightDecay: number; maxSeconds: number; plannedSteps: number;
    curriculum?: CurriculumStage[];
  };
  /** The folder training continued from, and the steps and seconds its own pretrain.json recorded. */
  continuedFrom?: { directory: string; steps?: number; seconds?: number };
  heldOut?: HeldOutScores;
  challenger?: ChallengerSamples[];
}

function checkWhole(name: string, value: number, minimum: number): void {
  if (!Number.isInteger(value) || value < minimum) throw new InvalidInputError(`pretrain: ${name} must be a whole number of at least ${minimum}, got ${value}`);
}

/** What a folder needs for training to continue from it. */
const continuedFiles = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

export async function runPretraining(given: PretrainOptions): Promise<PretrainReport | undefined> {
  const resumed = given.resume ? readPretrainCheckpoint(given.outDirectory) : undefined;
  // A resumed run takes its settings from the checkpoint.
  // (A resumed run's curriculum is the checkpoint's, none included.)
  const { curriculum: _givenCurriculum, ...givenOtherwise } = given;
  const options: PretrainOptions = resumed
    ? {
      ...givenOtherwise, steps: resumed.settings.steps, seed: resumed.settings.seed, batchSize: resumed.settings.batchSize,
      learningRate: resumed.settings.learningRate, warmupSteps: resumed.settings.warmupSteps, weightDecay: resumed.settings.weightDecay,
      maxSeconds: resumed.settings.maxSeconds, shape: resumed.settings.shape, dtype: resumed.settings.dtype,
      ...(resumed.settings.curriculum !== undefined ? { curriculum: resumed.settings.curriculum } : {}),
      fromDirectory: join(pretrainCheckpointDirectory(given.outDirectory), 'model'),
    }
    : given;
  const seed = options.seed ?? 1;
  const batchSize = options.batchSize ?? 32;
  const peakLearningRate = options.learningRate ?? 3e-3;
  const warmupSteps = options.warmupSteps ?? Math.min(100, Math.ceil(options.steps / 10));
  let shape = options.shape ?? defaultWorldModelShape;
  let dtype = options.dtype ?? 'float16';
  const maxSeconds = options.maxSeconds ?? 0;
  const checkpointEvery = options.checkpointEvery ?? 250;
  const curriculum = options.curriculum !== undefined ? checkCurriculum(options.curriculum, 'pretrain: curriculum') : undefined;
  checkWhole('steps', options.steps, 1);
  checkWhole('the checkpoint interval', checkpointEvery, 0);
  checkWhole('the batch size', batchSize, 1);
  checkWhole('the seed', seed, 0);
  if (!(peakLearningRate > 0 && Number.isFinite(peakLearningRate))) throw new InvalidInputError(`pretrain: the learning rate must be a positive number, got ${peakLearningRate}`);
  if (!(maxSeconds >= 0)) throw new InvalidInputError(`pretrain: the time limit must not be negative, got ${maxSeconds}`);
  if (shape.hiddenSize % shape.heads !== 0 || (shape.hiddenSize / shape.heads) % 2 !== 0) {
    throw new InvalidInputError(`pretrain: hidden size ${shape.hiddenSize} must split into ${shape.heads} heads of an even size`);
  }
  if (options.fromDirectory !== undefined) {
    const from = resolve(options.fromDirectory);
    for (const file of continuedFiles) {
      if (!existsSync(join(from, file))) throw new InvalidInputError(`pretrain: ${file} is missing in ${from}`, { hint: 'continue from a folder that lsp pretrain wrote' });
    }
  }
  const note = options.onNote ?? (() => {});
  const target = resolve(options.outDirectory);
  // Everything is built beside the target and renamed into place at the end: an interrupted run leaves the
  // previous folder (if any) as it was.
  const work = `${target}.tmp-${process.pid}-${Date.now()}`;
  const initial = join(work, 'initial');
  const staged = join(work, 'model');
  note(`pretraining the world model into ${target} on ${options.device.info.description}`);
  mkdirSync(dirname(target), { recursive: true });
  mkdirSync(initial, { recursive: true });
  try {
    if (options.fromDirectory === undefined) {
      writeWorldTokenizer(initial, { vocabularySize: options.vocabularySize ?? defaultWorldVocabularySize, seed });
    } else {
      for (const file of continuedFiles) copyFileSync(join(resolve(options.fromDirectory), file), join(initial, file));
    }
    const tokenizer = await loadTokenizer(initial);
    try {
      let config: Record<string, unknown>;
      if (options.fromDirectory === undefined) {
        const bos = tokenizer.tokenToId(worldSpecialTokens.bos)!;
        const eos = tokenizer.tokenToId(worldSpecialTokens.end)!;
        config = worldModelConfig(shape, tokenizer.vocabularySize, { bos, eos }, dtype);
        await writeInitialModel(initial, config, seed);
      } else {
        config = readModelConfig(initial).raw;
        const parsed = parseModelConfig(config);
        shape = { hiddenSize: parsed.hiddenSize, layers: parsed.layers, heads: parsed.heads, intermediateSize: parsed.intermediateSize, contextLength: parsed.maxPositionEmbeddings };
        dtype = parsed.dtype === 'bfloat16' ? 'float16' : parsed.dtype;
      }
      const parameters = parameterCount(config);
      note(`tokenizer: ${tokenizer.vocabularySize} tokens; model: ${(parameters / 1e6).toFixed(2)}M parameters, hidden ${shape.hiddenSize} x ${shape.layers} layers, ${dtype}` +
        (options.fromDirectory === undefined ? '' : ` (continued from ${resolve(options.fromDirectory)})`));

      // Resumed: the checkpoint's weights with their AdamW state; otherwise the folder just written.
      const model = await loadModel(resumed ? options.fromDirectory! : initial, { device: options.device, tokenizer });
      // A checkpoint holds float32 weights; the finished folder is written in the run's dtype all the same.
      if (resumed) for (const parameter of model.parameters.all) parameter.storage = dtype === 'float16' ? 'F16' : 'F32';
      const losses: { step: number; loss: number; solverLoss: number }[] = resumed ? [...resumed.losses] : [];
      let tokens = resumed?.tokens ?? 0;
      let trainingSeconds = 0;
      const earlierSeconds = resumed?.trainingSeconds ?? 0;
      const checkpointDirectory = pretrainCheckpointDirectory(target);
      // The folder the run continued from with --from (a resumed run's is in its checkpoint).
      const continuedFrom = resumed ? resumed.settings.fromDirectory : given.fromDirectory !== undefined ? resolve(given.fromDirectory) : undefined;
      const settings: PretrainCheckpointState['settings'] = {
        steps: options.steps, seed, batchSize, learningRate: peakLearningRate, warmupSteps, weightDecay: options.weightDecay ?? 0.01,
        maxSeconds, shape, dtype, ...(continuedFrom !== undefined ? { fromDirectory: continuedFrom } : {}),
        ...(curriculum !== undefined ? { curriculum } : {}),
      };
      /** Weights and AdamW state after `done` steps, and what the run needs to go on, written atomically. */
      const saveCheckpoint = async (done: number, seconds: number) => {
        const staging = `${checkpointDirectory}.tmp-${process.pid}`;
        rmSync(staging, { recursive: true, force: true });
        await model.save(join(staging, 'model'), { exact: true });
        const state: PretrainCheckpointState = { version: 1, step: done, trainingSeconds: seconds, tokens, losses, settings };
        writeFileSync(join(staging, 'state.json'), `${JSON.stringify(state)}\n`);
        const old = `${checkpointDirectory}.old-${process.pid}`;
        if (existsSync(checkpointDirectory)) renameSync(checkpointDirectory, old);
        renameSync(staging, checkpointDirectory);
        rmSync(old, { recursive: true, force: true });
      };
      try {
        if (curriculum !== undefined) note(`curriculum:\n${describeCurriculum(curriculum, options.steps)}`);
        const batches = pretrainingBatches(tokenizer, { seed, batchSize, ...(curriculum !== undefined ? { curriculum: { stages: curriculum, steps: options.steps } } : {}) });
        // The data stream replayed to the checkpoint's step (generating is cheap beside training).
        for (let skipped = 0; skipped < (resumed?.step ?? 0); skipped++) batches.next();
        if (resumed) note(`resuming from ${checkpointDirectory} after step ${resumed.step}`);
        const start = performance.now() - earlierSeconds * 1000;
        let lastReport = start;
        let reportLoss = 0;
        let reportTokens = 0;
        let reportSteps = 0;
        let reportSolverLoss = 0;
        let reportSolverTokens = 0;
        const progressSeconds = options.progressSeconds ?? 5;
        let step = resumed?.step ?? 0;
        let stopped = false;
        for (; step < options.steps; step++) {
          const elapsed = (performance.now() - start) / 1000;
          if (maxSeconds > 0 && elapsed >= maxSeconds) break;
          const progress = Math.max(step / options.steps, maxSeconds > 0 ? elapsed / maxSeconds : 0);
          const learningRate = learningRateAt({ peakLearningRate, warmupSteps, finalFraction: 0.1 }, step, progress);
          const batch = batches.next().value as EncodedExample[];
          const count = batch.reduce((sum, sequence) => sum + sequence.completionIds.length, 0);
          // Token-mean cross-entropy over the completion tokens: dLoss/dlogprob = -1/count for each.
          const logProbs = await model.accumulateGradients(batch, (rows) => rows.map((row) => new Float32Array(row.length).fill(-1 / count)));
          const rowSums = logProbs.map((row) => row.reduce((a, b) => a + b, 0));
          const loss = -rowSums.reduce((a, b) => a + b, 0) / count;
          batch.forEach((sequence, index) => {
            if (sequence.role !== 'solver') return;
            reportSolverLoss -= rowSums[index]!;
            reportSolverTokens += sequence.completionIds.length;
          });
          const result = await model.optimizerStep({ learningRate, maxGradientNorm: 1, weightDecay: options.weightDecay ?? 0.01 });
          if (!result.applied) note(`step ${step + 1}: the gradient was not finite, the step was skipped`);
          const batchTokens = batch.reduce((sum, sequence) => sum + sequence.promptIds.length + sequence.completionIds.length, 0);
          tokens += batchTokens;
          reportTokens += batchTokens;
          reportLoss += loss;
          reportSteps++;
          const now = performance.now();
          if ((now - lastReport) / 1000 >= progressSeconds || step === options.steps - 1 || step === 0) {
            const elapsedNow = (now - start) / 1000;
            const perStep = elapsedNow / (step + 1);
            const bySteps = perStep * (options.steps - step - 1);
            const remainingSeconds = maxSeconds > 0 ? Math.max(0, Math.min(bySteps, maxSeconds - elapsedNow)) : bySteps;
            const meanLoss = reportLoss / reportSteps;
            const solverLoss = reportSolverTokens > 0 ? reportSolverLoss / reportSolverTokens : Number.NaN;
            losses.push({ step: step + 1, loss: meanLoss, solverLoss });
            options.onProgress?.({
              step: step + 1, steps: options.steps, loss: meanLoss, solverLoss, learningRate,
              tokensPerSecond: reportTokens / ((now - lastReport) / 1000 || 1e-9), elapsedSeconds: elapsedNow, remainingSeconds,
            });
            lastReport = now;
            reportLoss = 0;
            reportTokens = 0;
            reportSteps = 0;
            reportSolverLoss = 0;
            reportSolverTokens = 0;
          }
          const done = step + 1;
          if (options.stopRequested?.()) {
            await saveCheckpoint(done, (performance.now() - start) / 1000);
            note(`stopped after step ${done}; checkpoint ${checkpointDirectory}; continue with --resume`);
            stopped = true;
            break;
          }
          if (checkpointEvery > 0 && done % checkpointEvery === 0 && done < options.steps) {
            await saveCheckpoint(done, (performance.now() - start) / 1000);
          }
        }
        if (stopped) return undefined;
        trainingSeconds = (performance.now() - start) / 1000;
        const stepsDone = step;
        // A frozen copy holds the weights without the optimizer's moments, which a shipped model does not need.
        const frozen = await model.cloneFrozen();
        try {
          await frozen.save(staged);
        } finally {
          frozen.dispose();
        }
        note(`trained ${stepsDone} steps in ${formatDuration(trainingSeconds)}; saved`);
        const tail = losses.filter((entry) => entry.step > stepsDone * 0.9);
        const last = tail.length > 0 ? tail : losses.slice(-1);
        const meanOf = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
        const report: PretrainReport = {
          directory: target, vocabularySize: tokenizer.vocabularySize, parameters, dtype, shape, steps: stepsDone, batchSize,
          seconds: trainingSeconds, tokens, tokensPerSecond: tokens / trainingSeconds,
          initialLoss: losses[0]?.loss ?? Number.NaN,
          finalLoss: meanOf(last.map((entry) => entry.loss)),
          finalSolverLoss: meanOf(last.map((entry) => entry.solverLoss).filter(Number.isFinite)),
          losses, device: options.device.info.description,
          settings: {
            seed, learningRate: peakLearningRate, warmupSteps, weightDecay: options.weightDecay ?? 0.01, maxSeconds, plannedSteps: options.steps,
            ...(curriculum !== undefined ? { curriculum } : {}),
          },
        };
        if (continuedFrom !== undefined) report.continuedFrom = previousRun(continuedFrom);
        model.dispose();
        if (options.evaluate ?? true) {
          // Measured on the folder as saved (weights rounded to its storage dtype), which is what a run loads.
          const saved = await loadModel(staged, { device: options.device, tokenizer });
          try {
            note('evaluating on the held-out set (greedy)');
            report.heldOut = await evaluateHeldOut(saved, tokenizer, options.heldOutPerLevel !== undefined ? { perLevel: options.heldOutPerLevel } : {});
            report.challenger = [
              await sampleChallenger(saved, tokenizer, { count: 1, temperature: 0, seed }),
              await sampleChallenger(saved, tokenizer, { count: 64, temperature: 1, seed }),
            ];
          } finally {
            saved.dispose();
          }
        }
        // The folder's own record leaves out where it was written: it is moved and committed as it is.
        const { directory: _directory, ...record } = report;
        writeFileSync(join(staged, 'pretrain.json'), `${JSON.stringify(record, null, 2)}\n`);
        const previous = `${target}.old-${process.pid}-${Date.now()}`;
        const hadPrevious = existsSync(target);
        if (hadPrevious) renameSync(target, previous);
        renameSync(staged, target);
        if (hadPrevious) rmSync(previous, { recursive: true, force: true });
        rmSync(checkpointDirectory, { recursive: true, force: true });
        return report;
      } finally {
        model.dispose();
      }
    } finally {
      tokenizer.dispose();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function previousRun(directory: string): NonNullable<PretrainReport['continuedFrom']> {
  try {
    const previous = JSON.parse(readFileSync(join(directory, 'pretrain.json'), 'utf8')) as { steps?: number; seconds?: number };
    return { directory, steps: previous.steps, seconds: previous.seconds };
  } catch {
    return { directory };
  }
}

export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, '0')}`;
}
