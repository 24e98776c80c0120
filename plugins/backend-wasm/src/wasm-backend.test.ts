// The plugin and its backend: shape accepted by core's checks, availability probe, doctor facts, and workers
// that never keep the process alive.
import { describe, expect, test } from 'bun:test';
import { componentShapes, pluginHeaderShape } from '@lsp/core';
import { backendWasm, createWasmBackend } from './wasm-backend';

describe('backendWasm plugin', () => {
  const plugin = backendWasm({ threads: 2 });
  const backend = plugin.backends![0]!;

  test('passes the core shape checks', () => {
    expect(pluginHeaderShape.safeParse(plugin).success).toBe(true);
    expect(plugin.name).toBe('@lsp/backend-wasm');
    expect(plugin.specificationVersion).toBe('v1');
    expect(componentShapes.backends.safeParse(backend).success).toBe(true);
    expect(backend.name).toBe('wasm');
    expect(backend.priority).toBe(10);
  });

  test('reports itself available and describes threads and SIMD', async () => {
    expect(await backend.checkAvailability()).toEqual({ available: true });
    const facts = await backend.describe!();
    expect(facts.threads).toBe(2);
    expect(facts.simd128).toBe(true);
    expect(facts.sharedMemory).toBe(true);
    expect(String(facts.matmul)).toMatch(/^(OpenBLAS through bun:ffi|wasm kernels)/);
    const off = await createWasmBackend({ blas: false }).describe!();
    expect(off.matmul).toStartWith('wasm kernels (OpenBLAS turned off)');
  });

  test('creates a working device with the configured threads', async () => {
    const device = await backend.createDevice({ threads: 1, blas: false });
    expect(device.info.description).toBe('wasm-simd128 (1 thread), matmul on wasm');
    const x = device.upload(Float32Array.from([1, -2, 3]), [3]);
    device.scale(x, 2, x);
    expect(Array.from((await device.read(x)) as Float32Array)).toEqual([2, -4, 6]);
    device.dispose();
    expect(() => device.allocate([1])).toThrow(/after dispose/);
  });

  test('a process that never disposes its device still exits', async () => {
    const script = `
      import { createWasmDevice } from ${JSON.stringify(new URL('./wasm-device.ts', import.meta.url).pathname)};
      const device = await createWasmDevice({ threads: 2 });
      const x = device.upload(new Float32Array(1000).fill(1), [1000]);
      console.log(await device.sumOfSquares([x]));
    `;
    const child = Bun.spawn([process.execPath, '-e', script], { stdout: 'pipe', stderr: 'pipe' });
    const timer = setTimeout(() => child.kill(), 20000);
    const code = await child.exited;
    clearTimeout(timer);
    expect(await new Response(child.stdout).text()).toBe('1000\n');
    expect(code).toBe(0);
  });
});
