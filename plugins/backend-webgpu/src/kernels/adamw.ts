// adamw: PyTorch's AdamW in place on param, m and v, with g = grad * gradientScale (see DeviceV1.adamw).
import type { AdamWOptions } from '@lsp/core';
import { checkSize, elementRanges, rangeOf, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'adamw',
  bindings: 'wrww',
  source: `${declareBindings([['param', 'f32', 'w'], ['grad', 'f32', 'r'], ['m', 'f32', 'w'], ['v', 'f32', 'w']],
    'count: u32, learningRate: f32, beta1: f32, beta2: f32, epsilon: f32, decay: f32, firstCorrection: f32, secondCorrection: f32, gradientScale: f32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.count) { return; }
  let g = grad[i] * params.gradientScale;
  let first = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let second = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  m[i] = first;
  v[i] = second;
  let decayed = param[i] * params.decay;
  param[i] = decayed - (params.learningRate * (first / params.firstCorrection)) / (sqrt(second / params.secondCorrection) + params.epsilon);
}`,
};

export function adamw(context: KernelContext, param: KernelTensor, grad: KernelTensor, m: KernelTensor, v: KernelTensor, options: AdamWOptions): void {
  for (const [tensor, name] of [[param, 'param'], [grad, 'grad'], [m, 'm'], [v, 'v']] as const) {
    checkType(tensor, 'f32', `adamw ${name}`);
    checkSize(tensor, param.size, `adamw ${name}`);
  }
  if (param.size === 0) return;
  const { learningRate, beta1, beta2, epsilon, weightDecay, step } = options;
  // The bias corrections and the decay factor are computed in float64 here, once per call.
  for (const [start, length] of elementRanges(context, param.size, [param, grad, m, v])) {
    const uniforms = new Uniforms().u32(length).f32(learningRate).f32(beta1).f32(beta2).f32(epsilon)
    .f32(1 - learningRate * weightDecay).f32(1 - beta1 ** step).f32(1 - beta2 ** step).f32(options.gradientScale ?? 1);
    context.dispatch(program, [param, grad, m, v].map((tensor) => rangeOf(tensor, start, length)), uniforms, workgroupsFor(length));
  }
}
