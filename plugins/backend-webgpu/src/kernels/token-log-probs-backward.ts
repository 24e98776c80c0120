// tokenLogProbsBackward: dlogits (N, V) = dlogprobs[n] (onehot(target) - softmax(logits)), overwritten; target < 0 rows are 0.
import { checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, rowsOf, Uniforms, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'token-log-probs-backward',
  bindings: 'rrrrw',
  source: `${declareBindings([['dlogprobs', 'f32', 'r'], ['logits', 'f32', 'r'], ['targets', 'i32', 'r'], ['logSumExp', 'f32', 'r'], ['dlogits', 'f32', 'w']], 'rows: u32, vocabulary: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.rows * params.vocabulary) { return; }
  let n = i / params.vocabulary;
  let j = i % params.vocabulary;
  let wanted = targets[n];
  var value = 0.0;
  if (wanted >= 0) {
    var hot = 0.0;
    if (u32(wanted) == j) { hot = 1.0; }
    value = dlogprobs[n] * (hot - exp(logits[i] - logSumExp[n]));
  }
  dlogits[i] = value;
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
  context.dispatch(program, [dlogprobs, logits, targets, logSumExp, dlogits], new Uniforms().u32(rows).u32(vocabulary), workgroupsFor(logits.size));
}
