import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base';

// Dawn's native addon (npm `webgpu`) is loaded at run time, never bundled.
export default defineConfig({
  ...packageBuild,
  external: ['webgpu'],
});
