// The loader of crates/advantage (advantage.wasm): owns the module's memory for each call (allocate the inputs,
// call the C ABI, copy the outputs, free everything) and presents it as an AdvantageMathV1.
import {
  InvalidInputError, UnavailableError, type AdvantageMathV1, type ChallengerAdvantages, type GroupAdvantageOptions,
  type GroupAdvantages, type GroupStatistics, type GroupStatisticsOptions, type KlEstimator, type PolicyLoss,
  type PolicyLossOptions, type PolicySequence, type TokenKl, type TokenLogProbs,
} from '@lsp/core';
import { fileURLToPath } from 'node:url';
import {
  checkEstimator, checkGroupAdvantageOptions, checkGroups, checkPolicyLossOptions, checkQualityValues, checkTokens,
  checkValues, defaultEpsilon,
} from './advantage-validation';

/** The C ABI of advantage.wasm (crates/advantage/src/lib.rs). Pointers are byte offsets into `memory`. */
interface AdvantageExports {
  memory: WebAssembly.Memory;
  allocate(bytes: number): number;
  release(pointer: number, bytes: number): void;
  group_statistics(values: number, offsets: number, groups: number, unbiased: number, means: number, deviations: number): number;
  group_advantages(
    values: number, offsets: number, groups: number, normalize: number, unbiased: number, epsilon: number, advantages: number,
  ): number;
  challenger_advantages(values: number, qualityValues: number, count: number, rewards: number, advantages: number): void;
  kl_per_token(logProbs: number, referenceLogProbs: number, count: number, estimator: number, values: number, derivatives: number): number;
  sequence_kl(logProbs: number, referenceLogProbs: number, offsets: number, sequences: number, estimator: number, sums: number): number;
  policy_loss(
    logProbs: number, referenceLogProbs: number, offsets: number, sequences: number, advantages: number, estimator: number,
    klCoefficient: number, klInLoss: number, aggregation: number, denominator: number, scale: number, gradients: number,
    results: number,
  ): number;
}

const estimatorCodes: Record<KlEstimator, number> = { k1: 1, k2: 2, k3: 3 };
const statusMessages: Record<number, string> = { 1: 'unknown KL estimator', 2: 'unknown aggregation', 3: 'decreasing offsets' };

/** Where crates/build.sh puts the module (in the @lsp/crates package). */
export function advantageModulePath(): string {
  return fileURLToPath(import.meta.resolve('@lsp/crates/wasm/advantage.wasm'));
}

let modulePromise: Promise<WebAssembly.Module> | undefined;

function compileModule(): Promise<WebAssembly.Module> {
  modulePromise ??= (async () => {
    const path = advantageModulePath();
    const file = Bun.file(path);
    if (!(await file.exists())) {
      modulePromise = undefined;
      throw new UnavailableError(`advantage-wasm: ${path} is missing`, { hint: 'run `bun run build` (crates/build.sh builds it)' });
    }
    return WebAssembly.compile(await file.arrayBuffer());
  })();
  return modulePromise;
}

/** The buffers of one call: every allocation is released when the call ends, whatever happens. */
class CallFrame {
  private readonly allocations: [pointer: number, bytes: number][] = [];

  constructor(private readonly wasm: AdvantageExports) {}

  private allocate(bytes: number): number {
    // Never zero bytes: Rust would hand back a dangling (but aligned) pointer, harmless yet confusing to debug.
    const size = Math.max(8, bytes);
    const pointer = this.wasm.allocate(size) >>> 0;
    if (pointer === 0) throw new UnavailableError(`advantage-wasm: out of memory allocating ${size} bytes`);
    this.allocations.push([pointer, size]);
    return pointer;
  }

  /** Copies numbers in as f64 (or reserves `count` of them when given a count). */
  float64(values: ArrayLike<number> | number): number {
    const count = typeof values === 'number' ? values : values.length;
    const pointer = this.allocate(count * 8);
    if (typeof values !== 'number') new Float64Array(this.wasm.memory.buffer, pointer, count).set(values);
    return pointer;
  }

  uint32(values: ArrayLike<number>): number {
    const pointer = this.allocate(values.length * 4);
    new Uint32Array(this.wasm.memory.buffer, pointer, values.length).set(values);
    return pointer;
  }

  /** A copy of `count` f64 values (a view would be detached by the next memory growth). */
  read(pointer: number, count: number): Float64Array {
    return new Float64Array(this.wasm.memory.buffer, pointer, count).slice();
  }

  release(): void {
    for (const [pointer, bytes] of this.allocations) this.wasm.release(pointer, bytes);
    this.allocations.length = 0;
  }
}

/** Ragged rows as one f64 array and the offsets where each row starts (rows + 1 entries). */
function flatten(list: readonly ArrayLike<number>[]): { values: Float64Array; offsets: Uint32Array } {
  const offsets = new Uint32Array(list.length + 1);
  for (let index = 0; index < list.length; index++) offsets[index + 1] = offsets[index]! + list[index]!.length;
  const values = new Float64Array(offsets[list.length]!);
  list.forEach((group, index) => values.set(group, offsets[index]!));
  return { values, offsets };
}

function unflatten(values: Float64Array, offsets: Uint32Array): number[][] {
  const groups: number[][] = [];
  for (let index = 0; index + 1 < offsets.length; index++) groups.push(Array.from(values.subarray(offsets[index]!, offsets[index + 1]!)));
  return groups;
}

function checkStatus(status: number, what: string): void {
  if (status !== 0) throw new InvalidInputError(`advantage-wasm: ${what} failed: ${statusMessages[status] ?? `status ${status}`}`);
}

export interface WasmAdvantageMath extends AdvantageMathV1 {
  /** The module's memory size, for leak checks (wasm memory never shrinks, so growth is visible). */
  memoryBytes(): number;
}

/** Instantiates advantage.wasm (compiled once per process) as an AdvantageMathV1. */
export async function loadAdvantageWasm(): Promise<WasmAdvantageMath> {
  const instance = await WebAssembly.instantiate(await compileModule(), {});
  const wasm = instance.exports as unknown as AdvantageExports;

  function call<T>(body: (frame: CallFrame) => T): T {
    const frame = new CallFrame(wasm);
    try {
      return body(frame);
    } finally {
      frame.release();
    }
  }

  return {
    specificationVersion: 'v1',
    name: 'wasm',
    memoryBytes: () => wasm.memory.buffer.byteLength,

    groupStatistics(groups: readonly (readonly number[])[], options: GroupStatisticsOptions = {}): GroupStatistics {
      checkGroups(groups);
      return call((frame) => {
        const { values, offsets } = flatten(groups);
        const means = frame.float64(groups.length);
        const deviations = frame.float64(groups.length);
        const zeroVarianceGroups = wasm.group_statistics(
          frame.float64(values), frame.uint32(offsets), groups.length, options.unbiased ? 1 : 0, means, deviations,
        ) >>> 0;
        return {
          means: Array.from(frame.read(means, groups.length)),
          standardDeviations: Array.from(frame.read(deviations, groups.length)),
          zeroVarianceGroups,
        };
      });
    },

    groupAdvantages(groups: readonly (readonly number[])[], options: GroupAdvantageOptions): GroupAdvantages {
      checkGroups(groups);
      checkGroupAdvantageOptions(options);
      return call((frame) => {
        const { values, offsets } = flatten(groups);
        const advantages = frame.float64(values.length);
        const zeroVarianceGroups = wasm.group_advantages(
          frame.float64(values), frame.uint32(offsets), groups.length, options.normalization === 'standard-deviation' ? 1 : 0,
          options.unbiased ? 1 : 0, options.epsilon ?? defaultEpsilon, advantages,
        ) >>> 0;
        return { advantages: unflatten(frame.read(advantages, values.length), offsets), zeroVarianceGroups };
      });
    },

    challengerAdvantages(values: readonly number[], qualityValues?: readonly number[]): ChallengerAdvantages {
      checkQualityValues(values, qualityValues);
      return call((frame) => {
        const rewards = frame.float64(values.length);
        const advantages = frame.float64(values.length);
        wasm.challenger_advantages(
          frame.float64(values), qualityValues ? frame.float64(qualityValues) : 0, values.length, rewards, advantages,
        );
        return { rewards: Array.from(frame.read(rewards, values.length)), advantages: Array.from(frame.read(advantages, values.length)) };
      });
    },

    tokenKl(tokens: TokenLogProbs, estimator: KlEstimator): TokenKl {
      checkEstimator(estimator);
      checkTokens(tokens, 'the sequence');
      return call((frame) => {
        const count = tokens.logProbs.length;
        const values = frame.float64(count);
        const derivatives = frame.float64(count);
        checkStatus(
          wasm.kl_per_token(frame.float64(tokens.logProbs), frame.float64(tokens.referenceLogProbs), count, estimatorCodes[estimator], values, derivatives),
          'kl_per_token',
        );
        return { values: frame.read(values, count), derivatives: frame.read(derivatives, count) };
      });
    },

    sequenceKl(sequences: readonly TokenLogProbs[], estimator: KlEstimator): number[] {
      checkEstimator(estimator);
      sequences.forEach((sequence, index) => checkTokens(sequence, `sequence ${index}`));
      return call((frame) => {
        const logProbs = flatten(sequences.map((sequence) => sequence.logProbs));
        const referenceLogProbs = flatten(sequences.map((sequence) => sequence.referenceLogProbs));
        const sums = frame.float64(sequences.length);
        checkStatus(
          wasm.sequence_kl(
            frame.float64(logProbs.values), frame.float64(referenceLogProbs.values), frame.uint32(logProbs.offsets),
            sequences.length, estimatorCodes[estimator], sums,
          ),
          'sequence_kl',
        );
        return Array.from(frame.read(sums, sequences.length));
      });
    },

    policyLoss(sequences: readonly PolicySequence[], options: PolicyLossOptions): PolicyLoss {
      checkPolicyLossOptions(options);
      sequences.forEach((sequence, index) => {
        checkTokens(sequence, `sequence ${index}`);
        checkValues([sequence.advantage], `sequence ${index} advantage`);
      });
      return call((frame) => {
        const logProbs = flatten(sequences.map((sequence) => sequence.logProbs));
        const referenceLogProbs = flatten(sequences.map((sequence) => sequence.referenceLogProbs));
        const tokens = logProbs.values.length;
        const gradients = frame.float64(tokens);
        const results = frame.float64(3);
        checkStatus(
          wasm.policy_loss(
            frame.float64(logProbs.values), frame.float64(referenceLogProbs.values), frame.uint32(logProbs.offsets),
            sequences.length, frame.float64(sequences.map((sequence) => sequence.advantage)), estimatorCodes[options.klEstimator],
            options.klCoefficient, options.klPlacement === 'loss' ? 1 : 0, options.aggregation === 'sequence-mean' ? 0 : 1,
            options.denominator ?? 0, options.scale ?? 1, gradients, results,
          ),
          'policy_loss',
        );
        const flatGradients = frame.read(gradients, tokens);
        const [loss, klSum] = frame.read(results, 3);
        return {
          loss: loss!,
          klSum: klSum!,
          tokens,
          gradients: sequences.map((_, index) => Float32Array.from(flatGradients.subarray(logProbs.offsets[index]!, logProbs.offsets[index + 1]!))),
        };
      });
    },
  };
}
