// @lsp/backend-webgpu: the GPU backend (WGSL kernels on Dawn's WebGPU, npm `webgpu`).
export { backendWebgpu, createWebgpuBackend } from './webgpu-backend';
export { createWebgpuDevice, WebgpuDevice, WebgpuTensor } from './webgpu-device';
export { isCpuEmulation, listAdapters } from './webgpu-adapter';
export type { AdapterInfoLike, AdapterSummary } from './webgpu-adapter';
export type { WebgpuDeviceInfo, WebgpuDeviceOptions } from './webgpu-device';
export { backendWebgpu as default } from './webgpu-backend';
