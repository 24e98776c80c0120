// @lsp/backend-wasm: the CPU backend (Rust kernels in wasm32 with SIMD128 on a pool of Bun workers).
export { backendWasm, createWasmBackend } from './wasm-backend';
export { chooseMatmulPath, createWasmDevice } from './wasm-device';
export { KernelFailure } from './wasm-pool';
export type { WasmDevice, WasmDeviceOptions, WasmTensor } from './wasm-device';
export { backendWasm as default } from './wasm-backend';
