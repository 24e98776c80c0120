// `bun run bench:webgpu`: the WebGPU backend on this machine's adapter, next to PyTorch on CUDA when a python3
// with a CUDA PyTorch is present (measured in the same run). Prints: the adapter; f32 matmul GFLOP/s at 1024,
// 2048 and 4096 with the fraction of the adapter's f32 peak where it is known; training tokens/s and 64-stream
// generation tokens/s for the CPU benchmark config and for a Qwen2.5-0.5B-shaped config with random weights.
// A script, not a test: it asserts nothing. On a CPU emulation (lavapipe) it runs small sizes only, since there
// only correctness counts; `--all` runs everything anyway.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeviceV1 } from '@lsp/core';
import { loadModel, writeRandomModel } from '../../../packages/model/src/index';
import { createRandom, randomFloats } from '@lsp/oracle';
import { benchmarkSteps, measureTorch, settings as cpuSettings, writeBenchmarkModel } from '../../../packages/model/bench/bench-model';
import { createWebgpuDevice, type WebgpuDevice } from '../src/webgpu-device';

const all = process.argv.includes('--all');
/** Seconds of timed work per figure (after a warm-up). */
const secondsPerFigure = 3;

/** Published f32 (non-tensor) peaks, TFLOP/s, by a substring of the adapter's name. */
const f32Peaks: [RegExp, number, string][] = [
  [/H200/i, 67, 'H200 SXM'],
  [/H100.*PCIe/i, 51, 'H100 PCIe'],
  [/H100/i, 67, 'H100 SXM'],
  [/A100/i, 19.5, 'A100'],
  [/L40S/i, 91.6, 'L40S'],
  [/RTX 4090/i, 82.6, 'RTX 4090'],
  [/T4\b/i, 8.1, 'T4'],
];

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

async function timed(step: () => Promise<void>, minimum: number): Promise<{ count: number; seconds: number }> {
  await step();
  const start = performance.now();
  let count = 0;
  while (count < minimum || performance.now() - start < secondsPerFigure * 1000) {
    await step();
    count++;
  }
  return { count, seconds: (performance.now() - start) / 1000 };
}

/** GFLOP/s of n x n x n products, several queued per synchronize (as a training step queues them). */
async function matmulRate(device: DeviceV1, n: number): Promise<number> {
  const random = createRandom(n);
  const a = device.upload(randomFloats(random, n * n), [n, n]);
  const b = device.upload(randomFloats(random, n * n), [n, n]);
  const out = device.allocate([n, n]);
  const perBatch = n >= 2048 ? 4 : 16;
  try {
    const { count, seconds } = await timed(async () => {
      for (let i = 0; i < perBatch; i++) device.matmul(a, b, out, n, n, n);
      await device.synchronize();
    }, 2);
    return (2 * n ** 3 * perBatch * count) / seconds / 1e9;
  } finally {
    for (const tensor of [a, b, out]) device.free(tensor);
  }
}

/** PyTorch's f32 matmul on CUDA (TF32 off) at the same sizes, or why not. */
async function torchMatmul(sizes: number[]): Promise<Record<number, number> | string> {
  const script = `
import json, sys, time, torch
assert torch.cuda.is_available()
torch.backends.cuda.matmul.allow_tf32 = False
out = {}
for n in json.loads(sys.argv[1]):
    a = torch.randn(n, n, device='cuda'); b = torch.randn(n, n, device='cuda')
    a @ b; torch.cuda.synchronize()
    start = time.perf_counter(); count = 0
    while time.perf_counter() - start < ${secondsPerFigure}:
        for _ in range(8): a @ b
        torch.cuda.synchronize(); count += 8
    out[n] = 2 * n ** 3 * count / (time.perf_counter() - start) / 1e9
print(json.dumps({"torch": torch.__version__, "gflops": out}))
`;
  for (const python of [process.env.LSP_TORCH_PYTHON, 'python3'].filter((c): c is string => !!c)) {
    const child = Bun.spawnSync([python, '-c', script, JSON.stringify(sizes)], { stderr: 'pipe' });
    if (child.exitCode === 0) return JSON.parse(child.stdout.toString()).gflops as Record<number, number>;
  }
  return 'no python3 with a CUDA PyTorch';
}

/** The Qwen2.5-0.5B shape (random weights): 24 layers of width 896, 14 heads over 2 key/value heads, tied head. */
const qwenShape = { vocab: 151936, hidden: 896, layers: 24, heads: 14, kv_heads: 2, intermediate: 4864 };

async function modelRates(device: WebgpuDevice, shape: 'cpu' | 'qwen') {
  const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-webgpu-'));
  try {
    if (shape === 'cpu') {
      await writeBenchmarkModel(directory);
    } else {
      await writeRandomModel(directory, {
        model_type: 'qwen2', architectures: ['Qwen2ForCausalLM'], vocab_size: qwenShape.vocab, hidden_size: qwenShape.hidden,
        intermediate_size: qwenShape.intermediate, num_hidden_layers: qwenShape.layers, num_attention_heads: qwenShape.heads,
        num_key_value_heads: qwenShape.kv_heads, max_position_embeddings: 1024, tie_word_embeddings: true, rope_theta: 1000000,
      }, { scale: 0.02 });
    }
    const model = await loadModel(directory, { device });
    try {
      const steps = benchmarkSteps(model);
      const training = await timed(steps.training, 2);
      const generation = await timed(steps.generation, 1);
      return {
        training: (cpuSettings.batch * cpuSettings.sequence * training.count) / training.seconds,
        generation: (cpuSettings.streams * cpuSettings.new_tokens * generation.count) / generation.seconds,
      };
    } finally {
      model.dispose();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  let device: WebgpuDevice;
  try {
    device = await createWebgpuDevice();
  } catch (error) {
    console.log(`bench:webgpu: no WebGPU device (${(error as Error).message}); nothing measured`);
    return;
  }
  try {
    const emulated = device.info.cpuEmulation;
    const name = device.info.description;
    const peak = f32Peaks.find(([pattern]) => pattern.test(name));
    console.log(`adapter: ${name}${emulated ? ' (a CPU emulation: small sizes only, for correctness; --all runs everything)' : ''}`);
    console.log(`variants: ${device.info.variants.join(', ')}; no f16 or subgroup-matrix variant yet, so no f16 figure`);
    const sizes = emulated && !all ? [256, 512] : [1024, 2048, 4096];
    const torch = emulated ? 'not run on a CPU emulation' : await torchMatmul(sizes);
    const rows: string[][] = [];
    for (const n of sizes) {
      const rate = await matmulRate(device, n);
      const reference = typeof torch === 'string' ? undefined : torch[n];
      rows.push([
        String(n), rate.toFixed(1), peak ? `${((100 * rate) / (peak[1] * 1000)).toFixed(1)}% of ${peak[2]} ${peak[1]}` : 'unknown',
        reference === undefined ? '-' : reference.toFixed(1), reference === undefined ? '-' : `${(rate / reference).toFixed(2)}x`,
      ]);
    }
    console.log('\nf32 matmul (n x n x n), GFLOP/s');
    console.log(table(['n', 'webgpu', 'of f32 peak', 'PyTorch f32', 'ratio'], rows));
    if (typeof torch === 'string') console.log(`PyTorch: ${torch}`);

    const shapes: ('cpu' | 'qwen')[] = emulated && !all ? ['cpu'] : ['cpu', 'qwen'];
    const modelRows: string[][] = [];
    for (const shape of shapes) {
      const rates = await modelRates(device, shape);
      const reference = emulated ? 'not run on a CPU emulation' : await measureTorch({
        device: 'cuda', seconds: secondsPerFigure, ...(shape === 'qwen' ? { ...qwenShape, tied: true } : {}),
      });
      const label = shape === 'cpu'
        ? `bench:cpu config (${cpuSettings.layers} x ${cpuSettings.hidden})`
        : `Qwen2.5-0.5B shape (${qwenShape.layers} x ${qwenShape.hidden})`;
      const ratio = (ours: number, theirs: number | undefined) => (theirs === undefined ? '-' : `${(ours / theirs).toFixed(2)}x`);
      const torchRates = typeof reference === 'string' ? undefined : reference;
      modelRows.push([label, 'training', rates.training.toFixed(0), torchRates?.training.toFixed(0) ?? '-', ratio(rates.training, torchRates?.training)]);
      modelRows.push([label, `generation (${cpuSettings.streams} streams)`, rates.generation.toFixed(0), torchRates?.generation.toFixed(0) ?? '-', ratio(rates.generation, torchRates?.generation)]);
      if (typeof reference === 'string' && shape === shapes.at(-1)) console.log(`PyTorch (model): ${reference}`);
    }
    console.log(`\nmodel, tokens/s (batch ${cpuSettings.batch} x ${cpuSettings.sequence} training with AdamW; generation prompt ${cpuSettings.prompt} + ${cpuSettings.new_tokens} new, greedy)`);
    console.log(table(['model', 'work', 'webgpu', 'PyTorch f32 (CUDA)', 'ratio'], modelRows));
  } finally {
    device.dispose();
  }
}

await main();
