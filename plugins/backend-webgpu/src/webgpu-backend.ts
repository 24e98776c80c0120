// The plugin: `backendWebgpu()` contributes the 'webgpu' backend (WGSL kernels on Dawn's WebGPU).
import type { BackendAvailability, BackendV1, PluginV1 } from '@lsp/core';
import {
  acquireInstance, chooseAdapter, describeAdapter, isCpuEmulation, listAdapters, releaseInstance, summarize, type AdapterInfoLike,
} from './webgpu-adapter';
import { createWebgpuDevice, type WebgpuDeviceOptions } from './webgpu-device';

export const packageName = '@lsp/backend-webgpu';
export const packageVersion = '0.1.0';

/** Runs `body` with Dawn's instance held, releasing it afterwards (so a probe never keeps the process alive). */
async function withInstance<T>(body: (gpu: GPU) => Promise<T>): Promise<T> {
  let gpu: GPU;
  try {
    gpu = acquireInstance();
  } catch (error) {
    throw new Error(`cannot load Dawn (npm webgpu): ${(error as Error).message}; install libvulkan1 and a Vulkan driver`);
  }
  try {
    return await body(gpu);
  } finally {
    releaseInstance();
  }
}

export function createWebgpuBackend(defaults: WebgpuDeviceOptions = {}): BackendV1 {
  return {
    specificationVersion: 'v1',
    name: 'webgpu',
    priority: 20,
    async checkAvailability(): Promise<BackendAvailability> {
      try {
        return await withInstance(async (gpu) => {
          const adapters = await listAdapters(gpu);
          if (adapters.length === 0) {
            return { available: false, reason: 'no WebGPU adapter: install a Vulkan driver (or Mesa lavapipe for CPU emulation)' };
          }
          const chosen = chooseAdapter(adapters, defaults.adapter);
          // A CPU emulation (lavapipe) computes, but slower than the CPU backend: `auto` passes it over.
          if (isCpuEmulation(chosen.info as unknown as AdapterInfoLike)) {
            return { available: true, cpuEmulation: true, reason: `${describeAdapter(chosen)}, a CPU emulation` };
          }
          return { available: true };
        });
      } catch (error) {
        return { available: false, reason: (error as Error).message };
      }
    },
    createDevice(options?: Record<string, unknown>) {
      return createWebgpuDevice({ ...defaults, ...(options as WebgpuDeviceOptions | undefined) });
    },
    async describe(): Promise<Record<string, unknown>> {
      try {
        return await withInstance(async (gpu) => {
          const adapters = await listAdapters(gpu);
          const chosen = adapters.length ? chooseAdapter(adapters, defaults.adapter) : undefined;
          return {
            adapters: adapters.map((adapter, index) => ({
              ...summarize(adapter, index),
              maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
              maxBufferSize: adapter.limits.maxBufferSize,
              features: [...adapter.features].map(String).sort(),
            })),
            chosen: chosen ? adapters.indexOf(chosen) : null,
            variants: ['portable f32'],
          };
        });
      } catch (error) {
        return { error: (error as Error).message };
      }
    },
  };
}

/** The plugin factory users list in lsp.config.ts: `plugins: [backendWebgpu()]`. */
export function backendWebgpu(options: WebgpuDeviceOptions = {}): PluginV1 {
  return {
    name: packageName,
    version: packageVersion,
    specificationVersion: 'v1',
    backends: [createWebgpuBackend(options)],
  };
}
