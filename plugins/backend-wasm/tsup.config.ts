import { defineConfig } from 'tsup';

// The worker is its own entry: the pool starts it by URL next to index.js.
export default defineConfig({
  entry: ['src/index.ts', 'src/wasm-worker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
