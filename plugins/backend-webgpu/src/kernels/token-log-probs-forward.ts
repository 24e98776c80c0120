// tokenLogProbsForward: logprobs (N) = log_softmax(logits (N, V))[targets], logSumExp (N) kept; target < 0 gives 0.
// One workgroup per row: a max pass, then a pass summing exp(logit - max).
import { checkSize, checkType, declareBindings, type KernelContext, type KernelProgram, type KernelTensor, rowsOf, rowWindows, Uniforms, workgroupIndex, workgroupReductions } from './kernel-context';

const program: KernelProgram = {
  key: 'token-log-probs-forward',
  bindings: 'rrww',
  source: `${declareBindings([['logits', 'f32', 'r'], ['targets', 'i32', 'r'], ['logprobs', 'f32', 'w'], ['logSumExp', 'f32', 'w']], 'rows: u32, vocabulary: u32, first: u32, shift: u32')}
${workgroupIndex}
${workgroupReductions}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) workgroup: vec3u, @builtin(num_workgroups) workgroups: vec3u, @builtin(local_invocation_index) local: u32) {
  // This dispatch covers rows [first, first + rows), bound from element shift of its window of the logits.
  let n = workgroupIndex(workgroup, workgroups);
  let clamped = min(n, params.rows - 1u);
  let row = params.shift + clamped * params.vocabulary;
  let g = params.first + n;
  var largest = bitcast<f32>(0xff7fffffu);
  for (var j = local; j < params.vocabulary; j += 256u) { largest = max(largest, logits[row + j]); }
  let maximum = reduceMax(local, largest);
  var sum = 0.0;
  for (var j = local; j < params.vocabulary; j += 256u) { sum += exp(logits[row + j] - maximum); }
  let total = maximum + log(reduceSum(local, sum));
  if (n >= params.rows || local != 0u) { return; }
  logSumExp[g] = total;
  let wanted = targets[g];
  var value = 0.0;
  if (wanted >= 0 && u32(wanted) < params.vocabulary) { value = logits[row + u32(wanted)] - total; }
  logprobs[g] = value;
}`,
};

export function tokenLogProbsForward(context: KernelContext, logits: KernelTensor, targets: KernelTensor, logprobs: KernelTensor, logSumExp: KernelTensor): void {
  checkType(targets, 'i32', 'tokenLogProbsForward targets');
  for (const [tensor, name] of [[logits, 'logits'], [logprobs, 'logprobs'], [logSumExp, 'logSumExp']] as const) checkType(tensor, 'f32', `tokenLogProbsForward ${name}`);
  const rows = targets.size;
  if (rows === 0) return;
  const vocabulary = rowsOf(logits.size, rows, 'tokenLogProbsForward logits');
  checkSize(logprobs, rows, 'tokenLogProbsForward logprobs');
  checkSize(logSumExp, rows, 'tokenLogProbsForward logSumExp');
  for (const [first, count, binding, shift] of rowWindows(context, logits, rows, vocabulary, 'tokenLogProbsForward logits')) {
    context.dispatch(program, [binding, targets, logprobs, logSumExp], new Uniforms().u32(count).u32(vocabulary).u32(first).u32(shift), count);
  }
}
