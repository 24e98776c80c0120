// A worker of the parallel encoder: loads the tokenizer once, then encodes the batches it is sent.
import { loadTokenizerSync } from './tokenizer-wasm';

interface LoadMessage { kind: 'load'; path: string }
interface EncodeMessage { kind: 'encode'; job: number; bytes: Uint8Array; lengths: Uint32Array; addSpecialTokens: boolean }

declare const self: Worker;
let tokenizer: ReturnType<typeof loadTokenizerSync> | undefined;

self.onmessage = (event: MessageEvent<LoadMessage | EncodeMessage>) => {
  const message = event.data;
  try {
    if (message.kind === 'load') {
      tokenizer = loadTokenizerSync(message.path);
      self.postMessage({ kind: 'loaded' });
      return;
    }
    if (!tokenizer) throw new Error('worker has no tokenizer loaded');
    const { counts, ids } = tokenizer.encodeBatchUtf8(message.bytes, message.lengths, { addSpecialTokens: message.addSpecialTokens });
    // Typed arrays transfer without copying.
    self.postMessage({ kind: 'encoded', job: message.job, counts, ids }, [counts.buffer as ArrayBuffer, ids.buffer as ArrayBuffer]);
  } catch (error) {
    self.postMessage({ kind: 'error', job: message.kind === 'encode' ? message.job : -1, message: (error as Error).message });
  }
};
