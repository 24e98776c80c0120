// Model benchmark, parts (b) and (c) of `bench:cpu`: training tokens/s and 64-stream generation tokens/s of the
// Llama model on the wasm backend, next to the same model in plain PyTorch on the same cores, in one run.
// A script, not a test: it prints figures and asserts nothing. `bun packages/model/bench/bench-model.ts`
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWasmDevice } from '@lsp/backend-wasm';
import { type LlamaModel, loadModel, writeRandomModel } from '../src/index';

/** The benchmark configuration of the model issue. */
export const settings = {
  vocab: 4096, hidden: 256, layers: 6, heads: 8, kv_heads: 4, intermediate: 688,
  batch: 16, sequence: 128, streams: 64, prompt: 16, new_tokens: 112, threads: 2, seconds: 4,
};
/** Rounds of wasm then PyTorch, each figure the best of its rounds: other processes on the same cores come
 * and go, and alternating gives both sides the same chances (one round each read 1.9x and 0.75x). */
const rounds = 3;

/** Writes the benchmark configuration as a random model folder (small weights, so activations stay tame). */
export async function writeBenchmarkModel(directory: string): Promise<void> {
  await writeRandomModel(directory, {
    model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: settings.vocab, hidden_size: settings.hidden,
    intermediate_size: settings.intermediate, num_hidden_layers: settings.layers, num_attention_heads: settings.heads,
    num_key_value_heads: settings.kv_heads, max_position_embeddings: 1024, tie_word_embeddings: false,
  }, { scale: 0.05 });
}

function randomIds(count: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % settings.vocab;
  });
}

/** One training step (forward, backward, AdamW on the batch) and one 64-stream generation of the benchmark. */
export function benchmarkSteps(model: LlamaModel): { training: () => Promise<void>; generation: () => Promise<void> } {
  const sequences = Array.from({ length: settings.batch }, (_, b) => {
    const ids = randomIds(settings.sequence, b + 1);
    return { promptIds: ids.slice(0, 1), completionIds: ids.slice(1) };
  });
  const requests = Array.from({ length: settings.streams }, (_, b) => ({ promptIds: randomIds(settings.prompt, 100 + b) }));
  return {
    training: async () => {
      await model.accumulateGradients(sequences, (rows) => rows.map((row) => new Float32Array(row.length).fill(-1 / (settings.batch * row.length))));
      await model.optimizerStep({ learningRate: 1e-4 });
    },
    generation: async () => {
      await model.generate(requests, { maxNewTokens: settings.new_tokens, temperature: 0 });
    },
  };
}

async function timed(step: () => Promise<void>, minimumSteps: number): Promise<{ steps: number; seconds: number }> {
  await step();
  const start = performance.now();
  let steps = 0;
  while (steps < minimumSteps || performance.now() - start < settings.seconds * 1000) {
    await step();
    steps++;
  }
  return { steps, seconds: (performance.now() - start) / 1000 };
}

/** A field of /proc/self/status in MiB (VmRSS, VmHWM), or undefined off Linux. */
function statusMiB(field: string): number | undefined {
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((entry) => entry.startsWith(`${field}:`));
    return line ? Number(line.split(/\s+/)[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Resets the process's peak resident memory to its current size (Linux's clear_refs 5); false where it cannot. */
function resetPeak(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function measureWasm() {
  const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-model-'));
  try {
    await writeBenchmarkModel(directory);
    // The training step's peak resident memory, from a peak reset before the device exists.
    Bun.gc(true);
    const peakReset = resetPeak();
    const startMiB = statusMiB('VmRSS');
    const device = await createWasmDevice({ threads: settings.threads });
    const model = await loadModel(directory, { device });
    const steps = benchmarkSteps(model);
    const training = await timed(steps.training, 2);
    const trainingPeakMiB = peakReset ? statusMiB('VmHWM') : undefined;
    const generation = await timed(steps.generation, 1);
    model.dispose();
    device.dispose();
    return {
      description: device.info.description,
      trainingPeakMiB,
      startMiB,
      training: (settings.batch * settings.sequence * training.steps) / training.seconds,
      generation: (settings.streams * settings.new_tokens * generation.steps) / generation.seconds,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The same model in plain PyTorch (torch_reference.py) on the benchmark settings, or on `overrides` of them. */
export async function measureTorch(
  overrides: Partial<typeof settings> & { tied?: boolean; device?: 'cpu' | 'cuda' } = {},
): Promise<{ torch: string; training: number; generation: number; trainingPeakMiB: number; startMiB: number } | string> {
  const run = { ...settings, ...overrides };
  const probeCode = run.device === 'cuda' ? 'import torch; assert torch.cuda.is_available()' : 'import torch';
  // The references' environment (scripts/setup.sh --with-references: a recent torch from pip) before Debian's torch.
  const venv = join(import.meta.dir, '../../../.venv-references/bin/python');
  const candidates = [process.env.LSP_TORCH_PYTHON, venv, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const python of candidates) {
    if (python.includes('/') && !existsSync(python)) continue;
    const probe = Bun.spawnSync([python, '-c', probeCode], { stderr: 'ignore' });
    if (probe.exitCode !== 0) continue;
    const child = Bun.spawn([python, join(import.meta.dir, 'torch_reference.py'), JSON.stringify(run)], {
      env: { ...process.env, OMP_WAIT_POLICY: 'passive', OMP_NUM_THREADS: String(run.threads) },
      stderr: 'pipe',
    });
    const output = await new Response(child.stdout).text();
    if ((await child.exited) !== 0) return `PyTorch failed: ${(await new Response(child.stderr).text()).trim().split('\n').at(-1)}`;
    const result = JSON.parse(output);
    return {
      torch: `${result.torch} (${python})`, training: result.training_tokens_per_second, generation: result.generation_tokens_per_second,
      trainingPeakMiB: result.training_peak_mib, startMiB: result.start_peak_mib,
    };
  }
  return run.device === 'cuda'
    ? 'no python3 with a CUDA PyTorch (LSP_TORCH_PYTHON=/path/to/python)'
    : 'no python3 with torch (scripts/setup.sh --with-references, or LSP_TORCH_PYTHON=/path/to/python)';
}

/** Measures both sides and prints the figures; `bench:cpu` may import and call this for its parts (b) and (c). */
export async function runModelBenchmark(print: (line: string) => void = console.log): Promise<void> {
  let wasm: Awaited<ReturnType<typeof measureWasm>> | undefined;
  let torch: Awaited<ReturnType<typeof measureTorch>> | undefined;
  for (let round = 0; round < rounds; round++) {
    const w = await measureWasm();
    wasm = !wasm ? w : { ...w, training: Math.max(wasm.training, w.training), generation: Math.max(wasm.generation, w.generation) };
    const t = await measureTorch();
    if (typeof t === 'string') {
      torch ??= t;
      break;
    }
    torch = typeof torch === 'object' ? { ...t, training: Math.max(torch.training, t.training), generation: Math.max(torch.generation, t.generation) } : t;
  }
  if (!wasm || !torch) return;
  print(`Model benchmark: vocab ${settings.vocab}, hidden ${settings.hidden}, ${settings.layers} layers, ${settings.heads} heads, ` +
    `${settings.kv_heads} KV heads, intermediate ${settings.intermediate}; ${settings.threads} threads; ` +
    `best of ${rounds} alternating rounds of ${settings.seconds} s per figure`);
  const ratio = (wasmFigure: number, torchFigure: number | undefined) =>
    torchFigure === undefined ? '' : ` (${(wasmFigure / torchFigure).toFixed(2)}x PyTorch)`;
  const reference = typeof torch === 'string' ? undefined : torch;
  print(`(b) training, batch ${settings.batch} x sequence ${settings.sequence}, forward + backward + AdamW:`);
  print(`    wasm (${wasm.description}): ${wasm.training.toFixed(0)} tokens/s${ratio(wasm.training, reference?.training)}`);
  print(`    PyTorch: ${reference ? `${reference.training.toFixed(0)} tokens/s (${reference.torch}, OMP_WAIT_POLICY=passive, set_num_threads(${settings.threads}))` : torch}`);
  const memory = (peak: number | undefined, start: number | undefined) =>
    peak === undefined ? 'not measured (needs Linux /proc)' : `${peak.toFixed(0)} MiB peak resident (${start === undefined ? '?' : (peak - start).toFixed(0)} MiB above the process before the model)`;
  print(`    memory of the training steps: wasm ${memory(wasm.trainingPeakMiB, wasm.startMiB)}; ` +
    `PyTorch ${reference ? memory(reference.trainingPeakMiB, reference.startMiB) : '-'}`);
  print(`(c) generation, ${settings.streams} streams, prompt ${settings.prompt}, ${settings.new_tokens} new tokens, greedy, KV cache:`);
  print(`    wasm: ${wasm.generation.toFixed(0)} tokens/s${ratio(wasm.generation, reference?.generation)}`);
  print(`    PyTorch: ${reference ? `${reference.generation.toFixed(0)} tokens/s` : torch}`);
}

if (import.meta.main) await runModelBenchmark();
