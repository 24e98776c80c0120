// `lsp doctor`: what this machine offers LSP (Bun, wasm modules, WebGPU adapters, CPU) and what to install.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseMatmulPath } from '@lsp/backend-wasm';
import { explainAutoChoice } from '@lsp/core';

export interface DoctorSection {
  title: string;
  lines: string[];
  /** Problems, each with what to do. */
  problems: string[];
  /** Whether a problem here stops LSP from running at all. */
  essential: boolean;
}

export const minimumBunVersion = '1.1.0';

export function compareVersions(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

export function checkBun(): DoctorSection {
  const version = Bun.version;
  const problems =
    compareVersions(version, minimumBunVersion) < 0
      ? [`Bun ${version} is older than ${minimumBunVersion}: upgrade with \`npm install -g bun\``]
      : [];
  return { title: 'Bun', lines: [`version ${version} (${Bun.revision.slice(0, 9)})`], problems, essential: true };
}

/** A module with one function returning a v128 constant: validates only where wasm SIMD128 is supported. */
const simdProbe = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, ...new Array(16).fill(0), 0x0b,
]);

export function wasmFeatures(): { simd128: boolean; sharedMemory: boolean } {
  let sharedMemory = false;
  try {
    sharedMemory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
  } catch {
    sharedMemory = false;
  }
  return { simd128: WebAssembly.validate(simdProbe), sharedMemory };
}

export function findWasmDirectory(): string | undefined {
  try {
    return join(dirname(Bun.resolveSync('@lsp/crates/package.json', dirname(fileURLToPath(import.meta.url)))), 'wasm');
  } catch {
    return undefined;
  }
}

export async function checkWasmModules(directory = findWasmDirectory()): Promise<DoctorSection> {
  const lines: string[] = [];
  const problems: string[] = [];
  const files = directory && existsSync(directory) ? readdirSync(directory).filter((name) => name.endsWith('.wasm')) : [];
  if (files.length === 0) {
    problems.push('no wasm modules are built: run scripts/setup.sh (or `bun run build`)');
  }
  for (const file of files.sort()) {
    const path = join(directory!, file);
    try {
      const module = await WebAssembly.compile(readFileSync(path));
      const exported = WebAssembly.Module.exports(module).length;
      const sharedMemory = WebAssembly.Module.imports(module).some((entry) => entry.kind === 'memory');
      lines.push(
        `${file}: ${(statSync(path).size / 1024).toFixed(0)} KiB, ${exported} exports` +
          (sharedMemory ? ', imports a shared memory' : ''),
      );
    } catch (error) {
      problems.push(`${file} does not compile (${error instanceof Error ? error.message : error}): rebuild with \`bun run build\``);
    }
  }
  return { title: 'WebAssembly modules', lines, problems, essential: true };
}

export function checkCpu(): DoctorSection {
  const processors = cpus();
  const flags = readCpuFlags();
  const simdFlags = ['sse4_1', 'avx', 'avx2', 'fma', 'avx512f', 'avx512_bf16', 'neon', 'asimd'].filter((flag) => flags.has(flag));
  const features = wasmFeatures();
  const problems: string[] = [];
  if (!features.simd128) problems.push('this runtime has no WebAssembly SIMD128: upgrade Bun (`npm install -g bun`)');
  if (!features.sharedMemory) problems.push('this runtime has no shared WebAssembly memory: the CPU backend runs on one thread');
  return {
    title: 'CPU',
    lines: [
      `${processors[0]?.model.trim() ?? 'unknown model'}, ${processors.length} logical cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB memory`,
      `native SIMD: ${simdFlags.length > 0 ? simdFlags.join(', ') : 'none reported'}`,
      `wasm SIMD128: ${features.simd128 ? 'yes' : 'no'}, wasm shared memory (threads): ${features.sharedMemory ? 'yes' : 'no'}`,
      `matrix products: ${describeMatmulPath(problems)}`,
    ],
    problems,
    essential: true,
  };
}

/** The path the CPU backend's products take (OpenBLAS or the wasm kernels) and why, as LSP_BLAS leaves it. */
function describeMatmulPath(problems: string[]): string {
  try {
    return chooseMatmulPath(undefined).matmulPath;
  } catch (error) {
    problems.push(`${(error as Error).message}: point LSP_BLAS at OpenBLAS, or set LSP_BLAS=off`);
    return 'none (LSP_BLAS names a library that does not open)';
  }
}

function readCpuFlags(): Set<string> {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    const line = text.split('\n').find((entry) => entry.startsWith('flags') || entry.startsWith('Features'));
    return new Set(line?.split(':')[1]?.trim().split(/\s+/) ?? []);
  } catch {
    return new Set();
  }
}

interface ProbeResult {
  adapters: {
    backend: string;
    featureLevel: string;
    description: string;
    device: string;
    vendor: string;
    architecture: string;
    features: string[];
    limits: Record<string, number>;
  }[];
  errors: string[];
}

export async function probeWebGpu(): Promise<ProbeResult | { failure: string }> {
  const probe = join(dirname(fileURLToPath(import.meta.url)), 'webgpu-probe.ts');
  const child = Bun.spawn([process.execPath, probe], { stdout: 'pipe', stderr: 'pipe' });
  const timer = setTimeout(() => child.kill(), 30_000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  if (exitCode !== 0) {
    const reason = stderr.split('\n').find((line) => line.trim() && !line.startsWith('Warning:')) ?? `exit code ${exitCode}`;
    return { failure: reason.trim() };
  }
  return JSON.parse(stdout) as ProbeResult;
}

export async function checkWebGpu(): Promise<DoctorSection> {
  const result = await probeWebGpu();
  const advice =
    'install libvulkan1 and a Vulkan driver (on Debian 12 without a GPU: mesa-vulkan-drivers from bookworm-backports; scripts/setup.sh does both)';
  if ('failure' in result) {
    return { title: 'WebGPU (Dawn)', lines: [], problems: [`the WebGPU probe failed (${result.failure}): ${advice}`], essential: false };
  }
  const lines: string[] = [];
  for (const adapter of result.adapters) {
    lines.push(`${adapter.description || adapter.device} [${adapter.backend}, ${adapter.featureLevel}] vendor ${adapter.vendor}, ${adapter.architecture}`);
    const interesting = ['shader-f16', 'subgroups', 'timestamp-query'].map(
      (feature) => `${feature} ${adapter.features.includes(feature) ? 'yes' : 'no'}`,
    );
    lines.push(`  features: ${interesting.join(', ')} (${adapter.features.length} in all)`);
    lines.push(
      `  limits: storage binding ${formatBytes(adapter.limits.maxStorageBufferBindingSize)}, buffer ${formatBytes(adapter.limits.maxBufferSize)}, ` +
        `workgroup storage ${formatBytes(adapter.limits.maxComputeWorkgroupStorageSize)}, ` +
        `invocations/workgroup ${adapter.limits.maxComputeInvocationsPerWorkgroup}, storage buffers/stage ${adapter.limits.maxStorageBuffersPerShaderStage}`,
    );
  }
  const problems = result.adapters.length === 0 ? [`no WebGPU adapter found: ${advice}`] : [];
  return { title: 'WebGPU (Dawn)', lines, problems, essential: false };
}

function formatBytes(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '?';
  if (value >= 2 ** 30) return `${(value / 2 ** 30).toFixed(1)} GiB`;
  if (value >= 2 ** 20) return `${(value / 2 ** 20).toFixed(0)} MiB`;
  return `${(value / 2 ** 10).toFixed(0)} KiB`;
}

/** Which backend `--backend auto` takes here, and why the ones ranked above it were passed over. */
export async function checkAutoBackend(): Promise<DoctorSection> {
  const { installedBackends } = await import('../commands/score');
  const backends = await installedBackends();
  const { chosen, reasons } = await explainAutoChoice(backends);
  const installed = `installed: ${backends.map((backend) => backend.name).join(', ')}`;
  if (!chosen) return { title: 'Backend for auto', lines: [installed], problems: [`no backend is available (${reasons.join('; ')})`], essential: true };
  const why = reasons.length > 0 ? ` (passed over: ${reasons.join('; ')})` : ' (the highest-ranked available)';
  return { title: 'Backend for auto', lines: [installed, `auto takes ${chosen.name}${why}`], problems: [], essential: true };
}

export async function runDoctor(): Promise<DoctorSection[]> {
  return [checkBun(), await checkWasmModules(), checkCpu(), await checkWebGpu(), await checkAutoBackend()];
}

export function formatDoctor(sections: readonly DoctorSection[]): string {
  const out: string[] = [];
  for (const section of sections) {
    out.push(`${section.problems.length === 0 ? 'ok  ' : section.essential ? 'FAIL' : 'warn'} ${section.title}`);
    for (const line of section.lines) out.push(`     ${line}`);
    for (const problem of section.problems) out.push(`     ! ${problem}`);
  }
  return out.join('\n');
}
