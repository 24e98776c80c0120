// The build every package shares: ESM with type declarations and source maps from src/index.ts.
// A package's tsup.config.ts spreads it and adds only what differs (extra entries, externals).
import type { Options } from 'tsup';

export const packageBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
};
