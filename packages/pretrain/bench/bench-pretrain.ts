// Part (d) of `bench:cpu`: `lsp pretrain`'s own training loop (the world model's shape, its tokenizer, batches of
// generated world examples, forward, backward and AdamW) in tokens/s, next to PyTorch training the same model
// (tied embeddings, the same batch at the loop's mean sequence length) on the same cores. A script: it prints
// figures and asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWasmDevice } from '@lsp/backend-wasm';
import { defaultWorldModelShape, runPretraining } from '../src/index';

const steps = 40;
const threads = 2;

export async function runPretrainBenchmark(print: (line: string) => void = console.log): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'lsp-bench-pretrain-'));
  const device = await createWasmDevice({ threads });
  try {
    const report = await runPretraining({ outDirectory: join(directory, 'model'), device, steps, evaluate: false, seed: 0 });
    const shape = defaultWorldModelShape;
    const meanSequence = Math.round(report.tokens / report.steps / report.batchSize);
    // Imported by path at run time, as bench:cpu does: the pretrain package does not depend on the model's bench.
    const { measureTorch } = await import(join(import.meta.dir, '../../model/bench/bench-model.ts'));
    const torch = await measureTorch({
      vocab: report.vocabularySize, hidden: shape.hiddenSize, layers: shape.layers, heads: shape.heads, kv_heads: shape.heads,
      intermediate: shape.intermediateSize, batch: report.batchSize, sequence: meanSequence, streams: 0, prompt: 1, new_tokens: 1,
      threads, seconds: 6, tied: true,
    });
    print(`(d) lsp pretrain: the world model (${(report.parameters / 1e6).toFixed(2)}M parameters, hidden ${shape.hiddenSize} x ${shape.layers} layers, ` +
      `vocabulary ${report.vocabularySize}), ${report.steps} steps of ${report.batchSize} sequences (mean ${meanSequence} tokens), ${threads} threads:`);
    print(`    lsp pretrain (${device.info.description}): ${report.tokensPerSecond.toFixed(0)} tokens/s, data and padding included` +
      (typeof torch === 'string' ? '' : ` (${(report.tokensPerSecond / torch.training).toFixed(2)}x PyTorch)`));
    print(`    PyTorch, the same model on ${report.batchSize} x ${meanSequence} random tokens: ` +
      (typeof torch === 'string' ? torch : `${torch.training.toFixed(0)} tokens/s (${torch.torch})`));
  } finally {
    device.dispose();
    rmSync(directory, { recursive: true, force: true });
  }
}

if (import.meta.main) await runPretrainBenchmark();
