// copyRows (and copy, one row): target[targetOffset + r*targetStride + j] = source[sourceOffset + r*sourceStride + j]
// for r < rows, j < rowLength, bit for bit (f32 or i32).
import { declareBindings, fitsBinding, type KernelBinding, type KernelContext, type KernelProgram, type KernelTensor, linearBuiltins, Uniforms, windowElements, windowOf, workgroupIndex, workgroupsFor } from './kernel-context';

const program: KernelProgram = {
  key: 'copy-rows',
  bindings: 'rw',
  source: `${declareBindings([['source', 'u32', 'r'], ['destination', 'u32', 'w']],
    'rows: u32, rowLength: u32, sourceOffset: u32, sourceStride: u32, targetOffset: u32, targetStride: u32, targetSize: u32')}
${workgroupIndex}
@compute @workgroup_size(256)
fn main(${linearBuiltins}) {
  let i = workgroupIndex(workgroup, workgroups) * 256u + local;
  if (i >= params.rows * params.rowLength) { return; }
  let r = i / params.rowLength;
  let j = i % params.rowLength;
  let t = params.targetOffset + r * params.targetStride + j;
  if (t >= params.targetSize) { return; }
  destination[t] = source[params.sourceOffset + r * params.sourceStride + j];
}`,
};

function checkIndex(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 0) throw new Error(`webgpu device: copyRows ${what} ${value} is not a non-negative integer`);
}

export function copyRows(
  context: KernelContext, source: KernelTensor, destination: KernelTensor, rows: number, rowLength: number,
  sourceOffset: number, sourceStride: number, targetOffset: number, targetStride: number,
): void {
  if (source.dtype !== destination.dtype) throw new Error(`webgpu device: copy from ${source.dtype} to ${destination.dtype}`);
  if (context.sameMemory(source, destination)) throw new Error('webgpu device: copy within one tensor is not supported');
  for (const [value, what] of [[rows, 'rows'], [rowLength, 'rowLength'], [sourceOffset, 'sourceOffset'], [sourceStride, 'sourceStride'], [targetOffset, 'targetOffset'], [targetStride, 'targetStride']] as const) checkIndex(value, what);
  if (rows === 0 || rowLength === 0) return;
  const sourceEnd = sourceOffset + (rows - 1) * sourceStride + rowLength;
  const targetEnd = targetOffset + (rows - 1) * targetStride + rowLength;
  if (sourceEnd > source.size) throw new Error(`webgpu device: copy reads up to element ${sourceEnd} of a source of ${source.size}`);
  if (targetEnd > destination.size) throw new Error(`webgpu device: copy writes up to element ${targetEnd} of a target of ${destination.size}`);
  if (fitsBinding(context, source) && fitsBinding(context, destination)) {
    const uniforms = new Uniforms().u32(rows).u32(rowLength).u32(sourceOffset).u32(sourceStride).u32(targetOffset).u32(targetStride).u32(destination.size);
    context.dispatch(program, [source, destination], uniforms, workgroupsFor(rows * rowLength));
    return;
  }
  // A tensor over the binding limit: blocks of rows (or pieces of one row, when a row alone is too long) whose
  // source and target spans each fit a window; offsets travel relative to each window's aligned start.
  const room = windowElements(context);
  const piece = Math.min(rowLength, room);
  const stride = Math.max(sourceStride, targetStride, 1);
  const rowsPerBlock = piece < rowLength ? 1 : Math.max(1, Math.floor((room - rowLength) / stride) + 1);
  const whole = (tensor: KernelTensor) => fitsBinding(context, tensor);
  for (let r0 = 0; r0 < rows; r0 += rowsPerBlock) {
    const blockRows = Math.min(rowsPerBlock, rows - r0);
    for (let j0 = 0; j0 < rowLength; j0 += piece) {
      const length = Math.min(piece, rowLength - j0);
      const from = sourceOffset + r0 * sourceStride + j0;
      const to = targetOffset + r0 * targetStride + j0;
      const fromSpan = (blockRows - 1) * sourceStride + length;
      const toSpan = (blockRows - 1) * targetStride + length;
      const read = whole(source) ? { binding: source as KernelBinding, shift: from } : windowOf(context, source, from, fromSpan);
      const written = whole(destination) ? { binding: destination as KernelBinding, shift: to } : windowOf(context, destination, to, toSpan);
      const targetEnd = written.binding === destination ? destination.size : written.shift + toSpan;
      const uniforms = new Uniforms().u32(blockRows).u32(length).u32(read.shift).u32(sourceStride).u32(written.shift).u32(targetStride).u32(targetEnd);
      context.dispatch(program, [read.binding, written.binding], uniforms, workgroupsFor(blockRows * length));
    }
  }
}
