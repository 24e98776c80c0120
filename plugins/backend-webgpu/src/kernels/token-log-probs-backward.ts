// tokenLogProbsBackward: dlogits (N, V) = dlogprobs[n] (onehot(target) - softmax(logits)), overwritten; target < 0 rows are 0.
import { alike, checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, rowsOf, rowWindows, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'token-log-probs-backward',
  bindings: 'rrrrw',
  source: `${declareBindings([['dlogprobs', 'f32', 'r'], ['logits', 'f32', 'r'], ['targets', 'i32', 'r'], ['logSumExp', 'f32', 'r'], ['dlogits', 'f32', 'w']], 'rows: u32, vocabulary: u32, first: u32, shift: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.rows * params.vocabulary) { return; }
  // Rows [first, first + rows) of logits and dlogits, bound from element shift of their windows.
  let n = params.first + i / params.vocabulary;
  let j = i % params.vocabulary;
  let wanted = targets[n];
  var value = 0.0;
  if (wanted >= 0) {
    var hot = 0.0;
    if (u32(wanted) == j) { hot = 1.0; }
    value = dlogprobs[n] * (hot - exp(logits[params.shift + i] - logSumExp[n]));
  }
  dlogits[params.shift + i] = value;
}`,
};

export function tokenLogProbsBackward(
  context: KernelContext, dlogprobs: KernelTensor, logits: KernelTensor, targets: KernelTensor, logSumExp: KernelTensor, dlogits: KernelTensor,
): void {
  checkType(targets, 'i32', 'tokenLogProbsBackward targets');
  for (const [tensor, name] of [[dlogprobs, 'dlogprobs'], [logits, 'logits'], [logSumExp, 'logSumExp'], [dlogits, 'dlogits']] as const) {
    checkType(tensor, 'f32', `tokenLogProbsBackward ${name}`);
  }
  const rows = targets.size;
  if (rows === 0) return;
  const vocabulary = rowsOf(logits.size, rows, 'tokenLogProbsBackward logits');
  checkSize(dlogits, logits.size, 'tokenLogProbsBackward dlogits');
  checkSize(dlogprobs, rows, 'tokenLogProbsBackward dlogprobs');
  checkSize(logSumExp, rows, 'tokenLogProbsBackward logSumExp');
  for (const [first, count, binding, shift] of rowWindows(context, logits, rows, vocabulary, 'tokenLogProbsBackward logits')) {
    // dlogits has the logits' size, so its window of the same rows has the same start and shift.
    const target = alike(binding, logits, dlogits);
    context.dispatch(program, [dlogprobs, binding, targets, logSumExp, target], new Uniforms().u32(count).u32(vocabulary).u32(first).u32(shift), workgroupsFor(count * vocabulary));
  }
}
