import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// The worker is its own entry: the pool starts it by URL next to index.js. bun:ffi (OpenBLAS) is Bun's own module.
export default defineConfig({
  ...packageBuild,
  entry: ['src/index.ts', 'src/wasm-worker.ts'],
  dts: { entry: 'src/index.ts' },
  external: ['bun:ffi'],
});
