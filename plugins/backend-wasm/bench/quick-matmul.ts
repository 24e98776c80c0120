// Quick matmul GFLOP/s of the wasm backend alone (no reference) for tuning the kernel: square sizes and the
// training shapes of the model benchmark. `bun plugins/backend-wasm/bench/quick-matmul.ts [threads]`
import { loadavg } from 'node:os';
import { createRandom, randomFloats } from '@lsp/oracle';
import { createWasmDevice } from '../src/index';

const threads = Number(process.argv[2] ?? 1);
const seconds = Number(process.argv[3] ?? 1);
const device = await createWasmDevice({ threads });
const shapes: [string, number, number, number, { transposeA?: boolean; transposeB?: boolean; accumulate?: boolean }][] = [
  ['square 256', 256, 256, 256, {}],
  ['square 1024', 1024, 1024, 1024, {}],
  ['x W^T 2048x688x256', 2048, 688, 256, { transposeB: true }],
  ['x W 2048x688x256', 2048, 688, 256, {}],
  ['x W^T 2048x256x256', 2048, 256, 256, { transposeB: true }],
  ['x W 2048x256x256', 2048, 256, 256, {}],
  ['dout W 2048x256x688', 2048, 256, 688, { accumulate: true }],
  ['dW 688x256x2048', 688, 256, 2048, { transposeA: true, accumulate: true }],
  ['head 2032x4096x256', 2032, 4096, 256, { transposeB: true }],
  ['dWkv 128x256x2048', 128, 256, 2048, { transposeA: true, accumulate: true }],
  ['dWo 256x256x2048', 256, 256, 2048, { transposeA: true, accumulate: true }],
  ['dWdown 256x688x2048', 256, 688, 2048, { transposeA: true, accumulate: true }],
];
const line: string[] = [];
for (const [name, m, n, k, options] of shapes) {
  const random = createRandom(m + n + k);
  const a = device.upload(randomFloats(random, m * k), [m * k]);
  const b = device.upload(randomFloats(random, k * n), [k * n]);
  const out = device.allocate([m * n]);
  device.matmul(a, b, out, m, n, k, options);
  await device.synchronize();
  const start = performance.now();
  let reps = 0;
  do {
    device.matmul(a, b, out, m, n, k, options);
    await device.synchronize();
    reps++;
  } while (performance.now() - start < seconds * 1000);
  line.push(`${name}: ${((2 * m * n * k * reps) / ((performance.now() - start) / 1000) / 1e9).toFixed(1)}`);
  for (const tensor of [a, b, out]) device.free(tensor);
}
console.log(`${threads} thread(s), load ${loadavg()[0]!.toFixed(2)}: ${line.join(', ')}`);
device.dispose();
