// `bun run bench:cpu`: CPU throughput of the wasm backend next to the reference measured in the same run.
// Part (a): f32 matmul GFLOP/s of @lsp/backend-wasm, on each of its paths (OpenBLAS through bun:ffi when found,
// and the wasm kernels), and of numpy on OpenBLAS, at equal thread counts; parts (b)
// and (c): training and generation tokens/s of the Llama model next to PyTorch (packages/model/bench); part (d):
// `lsp pretrain`'s training loop next to PyTorch training the world model (packages/pretrain/bench).
// A script, not a test: it prints figures and asserts nothing.
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createRandom, randomFloats } from '@lsp/oracle';
import { chooseMatmulPath, createWasmDevice } from '../src/index';

const sizes = [256, 1024, 2048];
const threadCounts = [1, 2];
/** Seconds of timed work per figure (after one warm-up run). */
const secondsPerFigure = 1.5;
/** Alternating rounds of wasm then numpy; each figure is the best of its rounds, so that load from other
 * processes, which comes and goes, falls on both sides alike. */
const rounds = 3;

// --- helpers -------------------------------------------------------------------------------------------------

function format(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => cell.padStart(widths[column]!)).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The Python that measures numpy's matmul; prints one JSON object. */
const numpyScript = `
import json, sys, time
import numpy as np
sizes = json.loads(sys.argv[1]); budget = float(sys.argv[2])
result = {"numpy": np.__version__, "gflops": {}}
for n in sizes:
    rng = np.random.default_rng(n)
    a = rng.random((n, n), dtype=np.float32); b = rng.random((n, n), dtype=np.float32)
    a @ b
    start = time.perf_counter(); times = []
    while True:
        before = time.perf_counter(); a @ b; after = time.perf_counter()
        times.append(after - before)
        if after - start >= budget: break
    times.sort()
    result["gflops"][str(n)] = {"median": 2 * n ** 3 / times[len(times) // 2] / 1e9, "mean": 2 * n ** 3 * len(times) / (after - start) / 1e9}
libraries = set()
with open('/proc/self/maps') as maps:
    for line in maps:
        path = line.split()[-1]
        if 'blas' in path or 'lapack' in path: libraries.add(path)
result["blas"] = sorted(libraries)
print(json.dumps(result))
`;

/** GFLOP/s from the median product and from the mean over the timed second and a half. */
interface Rate {
  median: number;
  mean: number;
}

interface NumpyResult {
  numpy: string;
  blas: string[];
  gflops: Record<string, Rate>;
}

const python = ['/usr/bin/python3', 'python3'].find((candidate) => candidate.includes('/') ? Bun.file(candidate).size > 0 : Bun.which(candidate));

/** numpy on OpenBLAS with OPENBLAS_NUM_THREADS = threads, or why it could not run. */
async function measureNumpy(threads: number): Promise<NumpyResult | string> {
  if (!python) return 'python3 is not installed';
  const child = Bun.spawn([python, '-c', numpyScript, JSON.stringify(sizes), String(secondsPerFigure)], {
    env: { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  const [output, errors, code] = [await new Response(child.stdout).text(), await new Response(child.stderr).text(), await child.exited];
  if (code !== 0) {
    return errors.includes('No module named') ? `numpy is missing for ${python}` : `numpy failed: ${errors.trim().split('\n').pop()}`;
  }
  return JSON.parse(output) as NumpyResult;
}

// --- (a) matmul ------------------------------------------------------------------------------------------------

async function measureWasm(threads: number, blas: boolean): Promise<Record<number, Rate>> {
  const device = await createWasmDevice({ threads, blas });
  const result: Record<number, Rate> = {};
  for (const n of sizes) {
    const random = createRandom(n);
    const a = device.upload(randomFloats(random, n * n), [n, n]);
    const b = device.upload(randomFloats(random, n * n), [n, n]);
    const out = device.allocate([n, n]);
    device.matmul(a, b, out, n, n, n);
    await device.synchronize();
    const times: number[] = [];
    const start = performance.now();
    let after: number;
    do {
      const before = performance.now();
      device.matmul(a, b, out, n, n, n);
      await device.synchronize();
      after = performance.now();
      times.push(after - before);
    } while (after - start < secondsPerFigure * 1000);
    times.sort((x, y) => x - y);
    const flops = 2 * n ** 3;
    result[n] = { median: flops / (times[times.length >> 1]! / 1000) / 1e9, mean: (flops * times.length) / ((after - start) / 1000) / 1e9 };
    for (const tensor of [a, b, out]) device.free(tensor);
  }
  device.dispose();
  return result;
}

/** The better of two measurements, each statistic on its own. */
function best(x: Rate | undefined, y: Rate): Rate {
  return x ? { median: Math.max(x.median, y.median), mean: Math.max(x.mean, y.mean) } : y;
}

async function matmulSection(): Promise<void> {
  console.log(`(a) f32 matmul C = A B, square n x n, GFLOP/s (2 n^3 flops per product), best of ${rounds} alternating rounds`);
  console.log(`    median: of the products timed one by one (each waited for), over ${secondsPerFigure} s; mean: over the whole ${secondsPerFigure} s\n`);
  const rows: string[][] = [];
  const notes = new Set<string>();
  // Both CPU paths of the backend: products on OpenBLAS through bun:ffi (when it is found) and on the wasm kernels.
  const { blas, matmulPath } = chooseMatmulPath(undefined);
  const paths = blas ? [true, false] : [false];
  notes.add(`backend paths: ${blas ? matmulPath : `${matmulPath}; only the wasm kernels are measured`}`);
  for (const threads of threadCounts) {
    const ours: Record<string, Record<number, Rate>> = { blas: {}, wasm: {} };
    const reference: Record<number, Rate> = {};
    let failure: string | undefined;
    let about = '';
    for (let round = 0; round < rounds; round++) {
      for (const path of paths) {
        const measured = await measureWasm(threads, path);
        const figures = ours[path ? 'blas' : 'wasm']!;
        for (const n of sizes) figures[n] = best(figures[n], measured[n]!);
      }
      const numpy = await measureNumpy(threads);
      if (typeof numpy === 'string') {
        failure = numpy;
        break;
      }
      about = `numpy ${numpy.numpy} (${python}) on ${numpy.blas.join(', ') || 'an unknown BLAS'}`;
      for (const n of sizes) reference[n] = best(reference[n], numpy.gflops[String(n)]!);
    }
    notes.add(failure ?? about);
    for (const path of paths) {
      for (const n of sizes) {
        const [mine, theirs] = [ours[path ? 'blas' : 'wasm']![n]!, failure ? undefined : reference[n]];
        rows.push([
          String(n), String(threads), path ? 'OpenBLAS (ffi)' : 'wasm kernels', format(mine.median), format(mine.mean),
          format(theirs?.median), format(theirs?.mean),
          theirs ? `${format(mine.median / theirs.median, 2)}x` : '-', theirs ? `${format(mine.mean / theirs.mean, 2)}x` : '-',
        ]);
      }
    }
  }
  console.log(table(['n', 'threads', 'backend path', 'median', 'mean', 'numpy/OpenBLAS median', 'mean', 'ratio (median)', '(mean)'], rows));
  console.log('');
  for (const note of notes) console.log(`reference: ${note}`);
  if ([...notes].some((note) => note.includes('missing') || note.includes('not installed'))) {
    console.log('to compare against OpenBLAS: apt-get install python3-numpy libopenblas0-pthread (or scripts/setup.sh --with-references)');
  }
  console.log("numpy: OPENBLAS_NUM_THREADS was set to each row's thread count; the backend used that many kernel workers (on the OpenBLAS path each calls it single-threaded on its share).");
  console.log('Stalls of this machine (up to about 10 ms, in plain JavaScript loops too) weigh on the means; the medians leave them out.');
}

// --- main ------------------------------------------------------------------------------------------------------

// Other processes on the same cores distort every figure, the two-thread ones most: say how busy it was.
const load = () => loadavg().map((value) => value.toFixed(2)).join(' ');
// `bun run bench:cpu matmul` runs part (a) only, `bun run bench:cpu model` parts (b) and (c), `pretrain` part (d).
const only = process.argv[2];
if (only !== undefined && only !== 'matmul' && only !== 'model' && only !== 'pretrain') {
  console.error(`bench:cpu: unknown part "${only}"; give matmul (part a), model (parts b and c), pretrain (part d) or nothing (all)`);
  process.exit(1);
}
console.log(`bench:cpu on ${navigator.hardwareConcurrency} cores, Bun ${Bun.version}, load average ${load()}\n`);
if (only === undefined || only === 'matmul') {
  await matmulSection();
  console.log(`\nload average after (a): ${load()}\n`);
}
if (only === undefined || only === 'model') {
  // Imported by path at run time: the model package depends on this one, not the other way round.
  const { runModelBenchmark } = await import(join(import.meta.dir, '../../../packages/model/bench/bench-model.ts'));
  await runModelBenchmark();
  console.log(`load average after (b) and (c): ${load()}\n`);
}
if (only === undefined || only === 'pretrain') {
  const { runPretrainBenchmark } = await import(join(import.meta.dir, '../../../packages/pretrain/bench/bench-pretrain.ts'));
  await runPretrainBenchmark();
  console.log(`load average at the end: ${load()}`);
}
