// A worker of the parallel encoder: loads the tokenizer once, then encodes the batches it is sent.
import { loadTokenizerSync } from './tokenizer-wasm';

interface LoadMessage { kind: 'load'; path: string }
interface EncodeMessage { kind: 'encode'; job: number; texts: string[]; addSpecialTokens: boolean }

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
    const ids = tokenizer.encodeBatchSync(message.texts, { addSpecialTokens: message.addSpecialTokens });
    // One flat Uint32Array plus lengths transfers without copying each array.
    const lengths = new Uint32Array(ids.map((list) => list.length));
    const flat = new Uint32Array(lengths.reduce((sum, length) => sum + length, 0));
    let offset = 0;
    for (const list of ids) {
      flat.set(list, offset);
      offset += list.length;
    }
    self.postMessage({ kind: 'encoded', job: message.job, lengths, flat }, [lengths.buffer, flat.buffer]);
  } catch (error) {
    self.postMessage({ kind: 'error', job: message.kind === 'encode' ? message.job : -1, message: (error as Error).message });
  }
};
