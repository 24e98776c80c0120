// Where the built-in world's pretrained model lives: plugins/world/model/, produced by `bun lsp pretrain` and
// committed, so the default experiment (`model: 'builtin'`) starts without training or downloading anything.
import { fileURLToPath } from 'node:url';

/** Absolute path of the shipped model folder (config.json, model.safetensors, tokenizer files, pretrain.json). */
export function builtinModelDirectory(): string {
  // src/ and dist/ both sit one level below the package root, so the same relative path serves both.
  return fileURLToPath(new URL('../model', import.meta.url));
}
