// The world's fixed held-out set: 40 tasks at each level 1..5, generated once by scripts/make-held-out.ts and
// committed, so every run and every version of the generator is measured on the same items.
import { InvalidInputError } from '@lsp/core';
import heldOutFile from './world-held-out.json';

export interface HeldOutItem {
  id: string;
  prompt: string;
  answer: string;
  level: number;
  difficulty: number;
}

export interface HeldOutSet {
  /** The seed the set was generated from (level L uses seed + L). */
  seed: number;
  perLevel: number;
  items: HeldOutItem[];
}

export function loadHeldOutSet(): HeldOutSet {
  const set = heldOutFile as HeldOutSet;
  if (!Array.isArray(set.items) || set.items.length === 0) {
    throw new InvalidInputError('world: world-held-out.json holds no items', { hint: 'regenerate it with `bun run held-out` in plugins/world' });
  }
  return set;
}

/** The held-out prompts, which training data must never contain. */
export function heldOutPrompts(): ReadonlySet<string> {
  return new Set(loadHeldOutSet().items.map((item) => item.prompt));
}
