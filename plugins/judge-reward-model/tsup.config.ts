// Builds the package to dist/ with the shared settings (tsup.base.ts).
import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

export default defineConfig(packageBuild);
