// Builds the package to dist/ with the shared settings (tsup.base.ts); Dawn's native module stays external.
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig({ ...packageBuild, external: ['webgpu'] });
