// `lsp new backend <name>`: a backend whose device runs every kernel on the float64 reference (@lsp/oracle) except
// one written out as the example, so the package works from the start and kernels are replaced one at a time, each
// checked against the oracle by the package's own test.
import type { KindTemplate, TemplateNames } from './plugin-template';

export function backendTemplate({ name, packageName, factory, pascal }: TemplateNames): KindTemplate {
  const source = `// ${packageName}: an LSP plugin contributing the "${name}" backend (a compute device for the model).
import type {
  AdamWOptions, AttentionOptions, BackendV1, DeviceInfo, DeviceV1, DType, MatmulOptions, PluginV1,
  SamplingKernelOptions, Tensor,
} from '@lsp/core';
import { createOracleDevice } from '@lsp/oracle';

/**
 * The device. Every kernel runs on the float64 reference (the definition of what each computes) except
 * \`swigluForward\`, written out below as the example of a kernel of one's own. Replace them one at a time (a GPU
 * API, native code through bun:ffi, ...); the test compares every kernel with the reference on every change.
 * Legend: N rows, I intermediate size (see DeviceV1 in @lsp/core for each kernel's shapes).
 */
export class ${pascal}Device implements DeviceV1 {
  readonly specificationVersion = 'v1' as const;
  readonly name = '${name}';
  readonly info: DeviceInfo = { description: '${name} (float64 reference kernels, swigluForward its own)', kind: 'cpu', storageTypes: ['f32', 'f16', 'bf16', 'i32'] };
  private readonly reference = createOracleDevice();

  // --- the kernel written here --------------------------------------------------------------------------
  /** out (N, I) = silu(gate) * up, silu(x) = x / (1 + exp(-x)). */
  swigluForward(gate: Tensor, up: Tensor, out: Tensor): void {
    const g = this.reference.floats(gate);
    const u = this.reference.floats(up);
    const o = this.reference.floats(out);
    if (g.length !== u.length || g.length !== o.length) throw new Error('${name}: swigluForward sizes differ');
    for (let i = 0; i < g.length; i++) o[i] = (g[i]! / (1 + Math.exp(-g[i]!))) * u[i]!;
  }

  // --- memory (the reference's) -------------------------------------------------------------------------
  allocate(shape: readonly number[], dtype?: DType): Tensor { return this.reference.allocate(shape, dtype); }
  upload(data: Float32Array | Int32Array | Uint16Array, shape: readonly number[], dtype?: DType): Tensor { return this.reference.upload(data, shape, dtype); }
  write(tensor: Tensor, data: Float32Array | Int32Array): void { this.reference.write(tensor, data); }
  read(tensor: Tensor): Promise<Float32Array | Int32Array> { return this.reference.read(tensor); }
  copy(source: Tensor, target: Tensor, sourceOffset?: number, targetOffset?: number, count?: number): void { this.reference.copy(source, target, sourceOffset, targetOffset, count); }
  copyRows(source: Tensor, target: Tensor, rows: number, rowLength: number, sourceOffset: number, sourceStride: number, targetOffset: number, targetStride: number): void {
    this.reference.copyRows(source, target, rows, rowLength, sourceOffset, sourceStride, targetOffset, targetStride);
  }
  free(tensor: Tensor): void { this.reference.free(tensor); }
  synchronize(): Promise<void> { return this.reference.synchronize(); }
  dispose(): void { this.reference.dispose(); }

  // --- the other kernels (the reference's) --------------------------------------------------------------
  add(a: Tensor, b: Tensor, out: Tensor): void { this.reference.add(a, b, out); }
  multiply(a: Tensor, b: Tensor, out: Tensor): void { this.reference.multiply(a, b, out); }
  scale(x: Tensor, factor: number, out: Tensor): void { this.reference.scale(x, factor, out); }
  fill(x: Tensor, value: number): void { this.reference.fill(x, value); }
  sumRows(x: Tensor, out: Tensor): void { this.reference.sumRows(x, out); }
  matmul(a: Tensor, b: Tensor, out: Tensor, m: number, n: number, k: number, options?: MatmulOptions): void { this.reference.matmul(a, b, out, m, n, k, options); }
  rmsnormForward(x: Tensor, weight: Tensor, out: Tensor, rstd: Tensor, epsilon: number): void { this.reference.rmsnormForward(x, weight, out, rstd, epsilon); }
  rmsnormBackward(dout: Tensor, x: Tensor, weight: Tensor, rstd: Tensor, dx: Tensor, dweight: Tensor): void { this.reference.rmsnormBackward(dout, x, weight, rstd, dx, dweight); }
  rope(x: Tensor, positions: Tensor, cos: Tensor, sin: Tensor, out: Tensor, heads: number, inverse?: boolean): void { this.reference.rope(x, positions, cos, sin, out, heads, inverse); }
  attentionForward(q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, options: AttentionOptions): void { this.reference.attentionForward(q, k, v, out, logSumExp, options); }
  attentionBackward(dout: Tensor, q: Tensor, k: Tensor, v: Tensor, out: Tensor, logSumExp: Tensor, dq: Tensor, dk: Tensor, dv: Tensor, options: AttentionOptions): void {
    this.reference.attentionBackward(dout, q, k, v, out, logSumExp, dq, dk, dv, options);
  }
  swigluBackward(dout: Tensor, gate: Tensor, up: Tensor, dgate: Tensor, dup: Tensor): void { this.reference.swigluBackward(dout, gate, up, dgate, dup); }
  embeddingForward(ids: Tensor, table: Tensor, out: Tensor): void { this.reference.embeddingForward(ids, table, out); }
  embeddingBackward(ids: Tensor, dout: Tensor, dtable: Tensor): void { this.reference.embeddingBackward(ids, dout, dtable); }
  tokenLogProbsForward(logits: Tensor, targets: Tensor, logprobs: Tensor, logSumExp: Tensor): void { this.reference.tokenLogProbsForward(logits, targets, logprobs, logSumExp); }
  tokenLogProbsBackward(dlogprobs: Tensor, logits: Tensor, targets: Tensor, logSumExp: Tensor, dlogits: Tensor): void { this.reference.tokenLogProbsBackward(dlogprobs, logits, targets, logSumExp, dlogits); }
  sumOfSquares(tensors: readonly Tensor[]): Promise<number> { return this.reference.sumOfSquares(tensors); }
  adamw(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, options: AdamWOptions): void { this.reference.adamw(param, grad, m, v, options); }
  sample(logits: Tensor, uniforms: Tensor, ids: Tensor, options: SamplingKernelOptions): void { this.reference.sample(logits, uniforms, ids, options); }
}

/** The backend: always available (it needs nothing but the runtime); \`auto\` prefers higher priorities (wasm is 10). */
export const ${factory}Backend: BackendV1 = {
  specificationVersion: 'v1',
  name: '${name}',
  priority: 1,
  async checkAvailability() {
    return { available: true };
  },
  async createDevice() {
    return new ${pascal}Device();
  },
};

/** The plugin factory: list \`${factory}()\` in lsp.config.ts, or pass \`--plugin ${name}\`. */
export default function ${factory}(): PluginV1 {
  return {
    specificationVersion: 'v1',
    name: '${packageName}',
    version: '0.1.0',
    backends: [${factory}Backend],
  };
}
`;
  const test = `// Tests of the ${name} backend: every kernel against the float64 oracle, then two self-play iterations on its
// device (@lsp/testing: the runner's loop on a tiny random model with the world's tokenizer).
import { checkDevice, playGame } from '@lsp/testing';
import { describe, expect, test } from 'bun:test';
import ${factory}, { ${factory}Backend } from './index';

describe('${packageName}', () => {
  test('is a v1 plugin with one available backend', async () => {
    expect(${factory}().backends?.map((backend) => backend.name)).toEqual(['${name}']);
    expect((await ${factory}Backend.checkAvailability()).available).toBe(true);
  });

  test('every kernel matches the oracle', async () => {
    const device = await ${factory}Backend.createDevice();
    try {
      const check = await checkDevice(device);
      expect(check.summary).toBe('');
      expect(check.passed).toBe(true);
    } finally {
      device.dispose();
    }
  });

  test('trains: two self-play iterations on its device', async () => {
    const { metrics } = await playGame({ plugins: [${factory}()], backend: '${name}', model: 'tiny', iterations: 2 });
    expect(metrics.map((m) => m.iteration)).toEqual([1, 2]);
    for (const m of metrics) {
      expect(Number.isFinite(m.loss)).toBe(true);
      expect(m.gradientNorm).toBeGreaterThan(0);
    }
  });
});
`;
  const readme = `## The backend

\`${name}\` contributes a compute device (\`DeviceV1\` in @lsp/core: explicit tensors and some twenty kernels, each
training kernel with its backward). \`${pascal}Device\` (src/index.ts) runs every kernel on LSP's float64 reference,
\`@lsp/oracle\`, except \`swigluForward\`, written out as the example. Replace kernels one at a time with your own; the
test compares every kernel with the reference on the oracle's standard cases (transposes, batches, accumulation,
grouped-query heads, KV-cache offsets, padding, sampling) and trains two self-play iterations on the device.
\`priority\` decides \`--backend auto\` (the highest available wins; LSP's CPU backend is 10), and
\`checkAvailability\` must answer without throwing, with a \`reason\` saying what to install when it is not.`;
  return {
    describes: `the "${name}" backend`,
    lspDependencies: ['@lsp/oracle'],
    lspDevDependencies: ['@lsp/testing'],
    source,
    test,
    readme,
    configField: `backend: '${name}'`,
    commandLine: `bun lsp run --plugin ${name} --backend ${name}`,
  };
}
