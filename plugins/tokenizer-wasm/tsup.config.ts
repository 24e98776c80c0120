// Builds the plugin to dist/ as ESM with type declarations (Bun runs src directly through the "bun" export condition).
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/tokenizer-parallel-worker.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
