// The plugin object and the backend's probes: availability, the adapter report, and a device made through it.
import { expect, setDefaultTimeout, test } from 'bun:test';
import { backendWebgpu, createWebgpuBackend } from './webgpu-backend';

setDefaultTimeout(300_000);

test('the plugin contributes one webgpu backend ranked above the CPU one', () => {
  const plugin = backendWebgpu();
  expect(plugin.name).toBe('@lsp/backend-webgpu');
  expect(plugin.specificationVersion).toBe('v1');
  expect(plugin.backends?.map((backend) => backend.name)).toEqual(['webgpu']);
  expect(plugin.backends![0]!.priority).toBeGreaterThan(10);
});

test('availability, the adapter report and a device agree', async () => {
  const backend = createWebgpuBackend();
  const availability = await backend.checkAvailability();
  if (!availability.available) {
    console.log(`webgpu backend tests skipped: ${availability.reason}`);
    expect(availability.reason).toBeTruthy();
    return;
  }
  const report = await backend.describe!();
  const adapters = report.adapters as { description: string; cpuEmulation: boolean }[];
  expect(adapters.length).toBeGreaterThan(0);
  const chosen = adapters[report.chosen as number]!;
  // A CPU emulation (lavapipe here) is available but marked, so that `auto` passes it over.
  expect(availability.cpuEmulation ?? false).toBe(chosen.cpuEmulation);
  const device = await backend.createDevice();
  try {
    expect(device.info.kind).toBe('gpu');
    expect(device.info.description).toContain(chosen.description);
    const x = device.upload(Float32Array.from([1, 2]), [2]);
    device.scale(x, 3, x);
    expect(Array.from(await device.read(x))).toEqual([3, 6]);
  } finally {
    device.dispose();
  }
  // An adapter named that does not exist is one clear line, not a crash.
  await expect(createWebgpuBackend({ adapter: 'no such adapter' }).createDevice()).rejects.toThrow(/no adapter matching 'no such adapter'/);
  await expect(createWebgpuBackend({ adapter: 99 }).createDevice()).rejects.toThrow(/no adapter 99/);
});
