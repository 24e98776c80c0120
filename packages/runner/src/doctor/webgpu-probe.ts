// Lists WebGPU adapters through Dawn (npm `webgpu`), one JSON document on stdout. Runs in its own process so a
// broken driver cannot take `lsp doctor` down with it.
import { create } from 'webgpu';

interface AdapterReport {
  backend: string;
  featureLevel: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  features: string[];
  limits: Record<string, number>;
}

const limitNames = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupsPerDimension',
];

const adapters: AdapterReport[] = [];
const errors: string[] = [];
// Keep every instance referenced until exit: collecting one while Dawn runs makes it dereference freed memory.
const instances: unknown[] = [];
for (const backend of ['vulkan', 'opengles']) {
  for (const featureLevel of ['core', 'compatibility'] as const) {
    try {
      const gpu = create([`backend=${backend}`]);
      instances.push(gpu);
      const adapter = await gpu.requestAdapter({ featureLevel } as GPURequestAdapterOptions);
      if (!adapter) continue;
      const info = adapter.info;
      const report: AdapterReport = {
        backend,
        featureLevel,
        vendor: info.vendor,
        architecture: info.architecture,
        device: info.device,
        description: info.description,
        features: [...adapter.features].map(String).sort(),
        limits: Object.fromEntries(limitNames.map((name) => [name, Number(adapter.limits[name as keyof GPUSupportedLimits])])),
      };
      // The same adapter answers both feature levels when it supports core; list it once.
      if (!adapters.some((known) => known.backend === backend && known.description === report.description)) {
        adapters.push(report);
      }
    } catch (error) {
      errors.push(`${backend}/${featureLevel}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
process.stdout.write(JSON.stringify({ adapters, errors }));
process.exit(0);
