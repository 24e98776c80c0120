// @lsp/advantage-wasm: LSP's advantage math in Rust/wasm (crates/advantage) and its TypeScript reference.
import type { PluginV1 } from '@lsp/core';

export { loadAdvantageWasm, advantageModulePath, type WasmAdvantageMath } from './advantage-wasm';
export { createReferenceAdvantageMath, klToken } from './advantage-reference';

export { createAdvantageMath, advantageImplementations, type AdvantageImplementation } from './advantage-choice';

/** The plugin: it adds no runner component (the games load the math themselves), but is listed by `lsp plugins`. */
export default function advantageWasm(): PluginV1 {
  return { name: '@lsp/advantage-wasm', version: '0.1.0', specificationVersion: 'v1' };
}
