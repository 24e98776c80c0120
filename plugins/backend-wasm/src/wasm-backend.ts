// The plugin: `backendWasm()` contributes the 'wasm' backend (CPU, SIMD128, one worker per core).
import type { BackendAvailability, BackendV1, PluginV1 } from '@lsp/core';
import { chooseMatmulPath, createWasmDevice, defaultThreadCount, type WasmDeviceOptions } from './wasm-device';
import { kernelModulePath } from './wasm-pool';

export const packageName = '@lsp/backend-wasm';
export const packageVersion = '0.1.0';

// The smallest module using v128 (i8x16.splat of a constant), to probe SIMD support without the kernels.
const simdProbe = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b,
]);

function simdSupported(): boolean {
  try {
    return WebAssembly.validate(simdProbe);
  } catch {
    return false;
  }
}

function sharedMemorySupported(): boolean {
  try {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  } catch {
    return false;
  }
}

/** Which path products take and why; the wasm kernels' own shape when they run them. */
function matmulDescription(blas: WasmDeviceOptions['blas']): string {
  try {
    const { blas: library, matmulPath } = chooseMatmulPath(blas);
    return library ? matmulPath : `${matmulPath}: packed panels, 4 x 12 register-blocked micro-kernel, rows split across workers`;
  } catch (error) {
    return (error as Error).message;
  }
}

export function createWasmBackend(defaults: WasmDeviceOptions = {}): BackendV1 {
  return {
    specificationVersion: 'v1',
    name: 'wasm',
    priority: 10,
    async checkAvailability(): Promise<BackendAvailability> {
      if (typeof WebAssembly !== 'object') return { available: false, reason: 'this runtime has no WebAssembly' };
      if (!simdSupported()) return { available: false, reason: 'this runtime lacks WebAssembly SIMD (use Bun 1.1 or newer)' };
      if (!sharedMemorySupported()) {
        return { available: false, reason: 'this runtime lacks shared WebAssembly memory (SharedArrayBuffer)' };
      }
      if (typeof Worker === 'undefined') return { available: false, reason: 'this runtime has no Worker' };
      try {
        if (!(await Bun.file(kernelModulePath()).exists())) {
          return { available: false, reason: 'crates/wasm/kernels.wasm is not built; run `bun run build`' };
        }
      } catch (error) {
        return { available: false, reason: `cannot locate @lsp/crates (${String(error)}); run \`bun install\`` };
      }
      return { available: true };
    },
    createDevice(options?: Record<string, unknown>) {
      return createWasmDevice({ ...defaults, ...(options as WasmDeviceOptions | undefined) });
    },
    async describe(): Promise<Record<string, unknown>> {
      return {
        threads: defaults.threads ?? defaultThreadCount(),
        hardwareConcurrency: navigator.hardwareConcurrency,
        simd128: simdSupported(),
        sharedMemory: sharedMemorySupported(),
        module: kernelModulePath(),
        runtime: `Bun ${Bun.version}`,
        matmul: matmulDescription(defaults.blas),
      };
    },
  };
}

/** The plugin factory users list in lsp.config.ts: `plugins: [backendWasm()]`. */
export function backendWasm(options: WasmDeviceOptions = {}): PluginV1 {
  return {
    name: packageName,
    version: packageVersion,
    specificationVersion: 'v1',
    backends: [createWasmBackend(options)],
  };
}
