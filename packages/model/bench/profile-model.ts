// Where a training step (or a 64-stream generation) of the benchmark model (bench-model.ts settings) spends its
// time on the wasm backend: every device call is timed to completion (the queue drained after it) and summed by
// kernel and shape. A script, not a test. `bun packages/model/bench/profile-model.ts [steps] [generation]`
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWasmDevice, type WasmDevice } from '@lsp/backend-wasm';
import { loadModel } from '../src/index';
import { benchmarkSteps, settings as benchmarkSettings, writeBenchmarkModel } from './bench-model';

const settings = { ...benchmarkSettings, threads: Number(process.env.THREADS ?? 2) };
const steps = Number(process.argv[2] ?? 3);
const generation = process.argv[3] === 'generation';

const directory = mkdtempSync(join(tmpdir(), 'lsp-profile-'));
try {
  await writeBenchmarkModel(directory);
  const device = (await createWasmDevice({ threads: settings.threads })) as WasmDevice;
  const model = await loadModel(directory, { device });
  const workload = benchmarkSteps(model);
  const step = generation ? workload.generation : workload.training;
  await step();
  let start = performance.now();
  // CPU time of the whole process (workers included) says how much work a step is, whatever else runs.
  const cpuStart = process.cpuUsage();
  for (let s = 0; s < steps; s++) await step();
  const plain = (performance.now() - start) / steps;
  const cpu = process.cpuUsage(cpuStart);
  const cpuMs = (cpu.user + cpu.system) / 1000 / steps;

  // Each kernel call waits for the queue to drain, so its time is its own (plus one wake-up).
  const totals = new Map<string, { ms: number; calls: number }>();
  const record = (key: string, ms: number) => {
    const entry = totals.get(key) ?? { ms: 0, calls: 0 };
    entry.ms += ms;
    entry.calls++;
    totals.set(key, entry);
  };
  const methods = ['fill', 'copy', 'copyRows', 'add', 'scale', 'sumRows', 'matmul', 'rmsnormForward', 'rmsnormBackward', 'rope',
    'attentionForward', 'attentionBackward', 'swigluForward', 'swigluBackward', 'embeddingForward', 'embeddingBackward',
    'tokenLogProbsForward', 'tokenLogProbsBackward', 'adamw', 'sample', 'allocate', 'upload', 'write'] as const;
  const target = device as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const method of methods) {
    const original = target[method]!.bind(device);
    target[method] = (...args: unknown[]) => {
      device.pool.waitSync(device.pool.enqueued);
      const begin = performance.now();
      const result = original(...args);
      device.pool.waitSync(device.pool.enqueued);
      let key: string = method;
      if (method === 'matmul') {
        const [, , , m, n, k, options] = args as [unknown, unknown, unknown, number, number, number, Record<string, unknown> | undefined];
        const flags = ['transposeA', 'transposeB', 'accumulate'].filter((flag) => options?.[flag]).map((flag) => flag.replace('transpose', 't').replace('accumulate', 'acc'));
        key = `matmul ${m}x${n}x${k} ${flags.join(',')}`;
      }
      if (method === 'rope' && args[6]) key = 'rope inverse';
      record(key, performance.now() - begin);
      return result;
    };
  }
  start = performance.now();
  for (let s = 0; s < steps; s++) await step();
  const profiled = (performance.now() - start) / steps;
  let kernels = 0;
  for (const { ms } of totals.values()) kernels += ms;
  console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`step: ${plain.toFixed(1)} ms unprofiled (${((generation ? settings.streams * settings.new_tokens : settings.batch * settings.sequence) / plain * 1000).toFixed(0)} tokens/s, CPU ${cpuMs.toFixed(0)} ms), ${profiled.toFixed(1)} ms profiled, kernels ${(kernels / steps).toFixed(1)} ms`);
  const rows = [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [key, { ms, calls }] of rows) {
    const flops = key.startsWith('matmul') ? key.split(' ')[1]!.split('x').map(Number).reduce((a, b) => a * b, 2) : 0;
    const rate = flops ? `  ${(flops * calls / ms / 1e6).toFixed(1)} GFLOP/s` : '';
    console.log(`${(ms / steps).toFixed(2).padStart(8)} ms  ${(100 * ms / kernels).toFixed(1).padStart(5)}%  ${String(calls / steps).padStart(4)} calls  ${key}${rate}`);
  }
  model.dispose();
  device.dispose();
} finally {
  rmSync(directory, { recursive: true, force: true });
}
