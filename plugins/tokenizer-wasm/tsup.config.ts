// Builds the package to dist/ with the shared settings (tsup.base.ts), plus the parallel encoder's worker.
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig({ ...packageBuild, entry: ['src/index.ts', 'src/tokenizer-parallel-worker.ts'] });
