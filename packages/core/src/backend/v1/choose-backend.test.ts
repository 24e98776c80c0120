// `auto` takes the highest-priority backend that computes natively; a GPU API over a CPU emulation is passed over
// while a CPU backend is there, and still used when nothing else is; a named backend is taken as named.
import { describe, expect, test } from 'bun:test';
import type { BackendAvailability, BackendV1 } from './backend';
import { chooseAvailableBackend, explainAutoChoice } from './choose-backend';

function backend(name: string, priority: number, availability: BackendAvailability): BackendV1 {
  return {
    specificationVersion: 'v1', name, priority,
    checkAvailability: async () => availability,
    createDevice: async () => { throw new Error('not in this test'); },
  };
}

const wasm = backend('wasm', 10, { available: true });
const gpu = backend('webgpu', 100, { available: true });
const lavapipe = backend('webgpu', 100, { available: true, cpuEmulation: true, reason: 'llvmpipe (LLVM 19.1.7, 256 bits), a CPU emulation' });
const missing = backend('webgpu', 100, { available: false, reason: 'no WebGPU adapter' });

describe('auto', () => {
  test('takes a real GPU over the CPU backend', async () => {
    expect(await chooseAvailableBackend([wasm, gpu], 'auto')).toBe(gpu);
  });

  test('passes over a CPU emulation while the CPU backend is there, and says why', async () => {
    const { chosen, reasons } = await explainAutoChoice([wasm, lavapipe]);
    expect(chosen).toBe(wasm);
    expect(reasons).toEqual(['webgpu: only llvmpipe (LLVM 19.1.7, 256 bits), a CPU emulation']);
  });

  test('uses the emulation when nothing else computes, and refuses when nothing is available', async () => {
    expect(await chooseAvailableBackend([lavapipe], 'auto')).toBe(lavapipe);
    expect(chooseAvailableBackend([missing], 'auto')).rejects.toThrow('no compute backend is available (webgpu: no WebGPU adapter)');
  });

  test('a named emulation is taken as named', async () => {
    expect(await chooseAvailableBackend([wasm, lavapipe], 'webgpu')).toBe(lavapipe);
  });
});
