// The plugin: `backendWebgpu()` contributes the 'webgpu' backend (WGSL kernels on Dawn's WebGPU).
import type { BackendAvailability, BackendV1, PluginV1 } from '@lsp/core';
import { join } from 'node:path';
import { acquireInstance, chooseAdapter, listAdapters, releaseInstance, summarize, type AdapterSummary } from './webgpu-adapter';
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

interface ProbeResult {
  adapters: AdapterSummary[];
  chosen: number | null;
  error?: string;
}

/** Lists the adapters in a child process (probe-adapters.ts), whose stderr (Dawn's warnings) is dropped. */
async function probeAdapters(choice: string | number | undefined): Promise<ProbeResult> {
  const script = join(import.meta.dir, 'probe-adapters.ts');
  const child = Bun.spawn([process.execPath, script, ...(choice === undefined ? [] : [String(choice)])], { stdout: 'pipe', stderr: 'ignore', stdin: 'ignore' });
  const timer = setTimeout(() => child.kill(), 60_000);
  const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  clearTimeout(timer);
  try {
    if (code === 0) return JSON.parse(stdout) as ProbeResult;
  } catch {
    // Below.
  }
  return { adapters: [], chosen: null, error: `the WebGPU adapter probe failed (exit code ${code}): check the Vulkan driver with \`bun lsp doctor\`` };
}

export function createWebgpuBackend(defaults: WebgpuDeviceOptions = {}): BackendV1 {
  return {
    specificationVersion: 'v1',
    name: 'webgpu',
    priority: 20,
    async checkAvailability(): Promise<BackendAvailability> {
      const probe = await probeAdapters(defaults.adapter);
      if (probe.error && probe.chosen === null && probe.adapters.length > 0) return { available: false, reason: probe.error };
      if (probe.adapters.length === 0) {
        return { available: false, reason: probe.error ?? 'no WebGPU adapter: install a Vulkan driver (or Mesa lavapipe for CPU emulation)' };
      }
      const chosen = probe.adapters[probe.chosen ?? 0]!;
      // A CPU emulation (lavapipe) computes, but slower than the CPU backend: `auto` passes it over.
      if (chosen.cpuEmulation) return { available: true, cpuEmulation: true, reason: `${chosen.description || chosen.device}, a CPU emulation` };
      return { available: true };
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
