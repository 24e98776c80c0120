// Finding a WebGPU adapter through Dawn (npm `webgpu`): one shared `create()` instance kept referenced while any
// device or probe uses it (Dawn dereferences freed memory if it is collected while in use) and dropped when the
// last user releases it, so the process can exit.
import { UnavailableError } from '@lsp/core';
import { create } from 'webgpu';

export interface AdapterSummary {
  index: number;
  backend: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** 'discrete', 'integrated' or 'cpu' as far as Dawn tells. */
  type: string;
  cpuEmulation: boolean;
}

interface Instance {
  gpu: GPU;
  users: number;
}

let instance: Instance | undefined;

/** Dawn's instance with one more user; pair every call with `releaseInstance`. */
export function acquireInstance(): GPU {
  if (!instance) instance = { gpu: create(['backend=vulkan']), users: 0 };
  instance.users++;
  return instance.gpu;
}

export function releaseInstance(): void {
  if (!instance) return;
  instance.users--;
  if (instance.users <= 0) instance = undefined;
}

/** The subset of GPUAdapterInfo this module reads (Dawn adds `type` beside the standard fields). */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  type?: string;
  isFallbackAdapter?: boolean;
}

/** Whether an adapter is a CPU emulation of a GPU (Mesa lavapipe/llvmpipe, SwiftShader, WARP) rather than a GPU. */
export function isCpuEmulation(info: AdapterInfoLike): boolean {
  if (info.isFallbackAdapter) return true;
  if ((info.type ?? '').toLowerCase().includes('cpu')) return true;
  const text = `${info.vendor ?? ''} ${info.architecture ?? ''} ${info.device ?? ''} ${info.description ?? ''}`.toLowerCase();
  return /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render|\bwarp\b/.test(text) || (info.architecture ?? '').toLowerCase() === 'software';
}

function adapterType(info: AdapterInfoLike): string {
  if (isCpuEmulation(info)) return 'cpu';
  const type = (info.type ?? '').toLowerCase();
  if (type.includes('discrete')) return 'discrete';
  if (type.includes('integrated')) return 'integrated';
  return type || 'unknown';
}

export function summarize(adapter: GPUAdapter, index: number): AdapterSummary {
  const info = adapter.info as unknown as AdapterInfoLike;
  return {
    index,
    backend: 'vulkan',
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    type: adapterType(info),
    cpuEmulation: isCpuEmulation(info),
  };
}

/**
 * The adapters Dawn offers: the high-performance one, the low-power one and the fallback, each once. Dawn's
 * `requestAdapter` answers one adapter per preference, so these three requests list what it will hand out.
 */
export async function listAdapters(gpu: GPU): Promise<GPUAdapter[]> {
  const found: GPUAdapter[] = [];
  const seen = new Set<string>();
  const requests: GPURequestAdapterOptions[] = [{ powerPreference: 'high-performance' }, { powerPreference: 'low-power' }, { forceFallbackAdapter: true }];
  for (const request of requests) {
    let adapter: GPUAdapter | null = null;
    try {
      adapter = await gpu.requestAdapter(request);
    } catch {
      adapter = null;
    }
    if (!adapter) continue;
    const info = adapter.info as unknown as AdapterInfoLike;
    const key = `${info.vendor}|${info.device}|${info.description}|${info.architecture}`;
    if (seen.has(key)) continue;
    seen.add(key);
    found.push(adapter);
  }
  return found;
}

/** Ranks adapters: a discrete GPU first, then integrated, then anything else, a CPU emulation last. */
function rank(adapter: GPUAdapter): number {
  const type = adapterType(adapter.info as unknown as AdapterInfoLike);
  return type === 'discrete' ? 0 : type === 'integrated' ? 1 : type === 'cpu' ? 3 : 2;
}

/**
 * The adapter to use: `choice` is an index into `listAdapters` or a substring of its name; without one, the
 * environment's LSP_WEBGPU_ADAPTER (the same forms), else the best ranked.
 */
export function chooseAdapter(adapters: readonly GPUAdapter[], given?: string | number): GPUAdapter {
  const fromEnvironment = process.env.LSP_WEBGPU_ADAPTER?.trim();
  const choice = given ?? (fromEnvironment ? fromEnvironment : undefined);
  if (adapters.length === 0) {
    throw new UnavailableError('webgpu device: no WebGPU adapter found', { hint: 'install a Vulkan driver (scripts/setup.sh installs Mesa lavapipe), or use --backend wasm' });
  }
  if (choice === undefined || choice === '') {
    return [...adapters].sort((x, y) => rank(x) - rank(y))[0]!;
  }
  const names = adapters.map((adapter, index) => `${index}: ${describeAdapter(adapter)}`).join('; ');
  if (typeof choice === 'number' || /^\d+$/.test(choice)) {
    const adapter = adapters[Number(choice)];
    if (!adapter) throw new UnavailableError(`webgpu device: no adapter ${choice} (adapters: ${names})`, { hint: 'set LSP_WEBGPU_ADAPTER to one of those indices or names' });
    return adapter;
  }
  const wanted = choice.toLowerCase();
  const adapter = adapters.find((candidate) => describeAdapter(candidate).toLowerCase().includes(wanted));
  if (!adapter) throw new UnavailableError(`webgpu device: no adapter matching '${choice}' (adapters: ${names})`, { hint: 'set LSP_WEBGPU_ADAPTER to one of those indices or names' });
  return adapter;
}

export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info as unknown as AdapterInfoLike;
  const name = info.description || info.device || info.vendor || 'unknown adapter';
  return `${name}${info.vendor && !name.toLowerCase().includes(info.vendor.toLowerCase()) ? ` (${info.vendor})` : ''}`;
}
