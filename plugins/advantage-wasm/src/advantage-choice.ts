// Picks an implementation of the advantage math by name, for games that let users choose.
import { ConfigError, type AdvantageMathV1 } from '@lsp/core';
import { createReferenceAdvantageMath } from './advantage-reference';
import { loadAdvantageWasm } from './advantage-wasm';

/** The wasm module (default) or the TypeScript reference. */
export type AdvantageImplementation = 'wasm' | 'typescript';
export const advantageImplementations: readonly AdvantageImplementation[] = ['wasm', 'typescript'];

export async function createAdvantageMath(implementation: AdvantageImplementation = 'wasm'): Promise<AdvantageMathV1> {
  if (implementation === 'wasm') return loadAdvantageWasm();
  if (implementation === 'typescript') return createReferenceAdvantageMath();
  throw new ConfigError(`unknown advantage implementation "${String(implementation)}"`, { hint: 'use wasm or typescript' });
}
