// Measures what BPE merges do to world text at several vocabulary sizes: tokens per example, and how many
// answer characters end up inside multi-character tokens (which reverse, sort and count must then see through).
// A script that prints figures: `bun packages/pretrain/scripts/measure-tokenizer.ts`
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTokenizer } from '@lsp/tokenizer-wasm';
import { generatePretrainingExamples, operationNames } from '@lsp/world';
import { writeWorldTokenizer } from '../src/pretrain-tokenizer';

/** Pieces of the grammar's own words: a merge inside these never touches a literal. */
const keywords = [...operationNames, 'new', 'task'];
const isKeywordPiece = (text: string) => keywords.some((word) => word.includes(text.trim()));

const examples = generatePretrainingExamples({ seed: 99, count: 4000 }).filter((example) => example.role === 'solver');
console.log('vocabulary  merges  tokens/prompt  tokens/answer  answer chars fused  prompt literal chars fused  first merges');
for (const vocabularySize of [260, 280, 300, 320, 360, 420]) {
  const directory = mkdtempSync(join(tmpdir(), 'lsp-measure-tokenizer-'));
  try {
    writeWorldTokenizer(directory, { vocabularySize });
    const tokenizer = await loadTokenizer(directory);
    let promptTokens = 0;
    let answerTokens = 0;
    let answerCharacters = 0;
    let fusedCharacters = 0;
    let promptCharacters = 0;
    let promptFused = 0;
    for (const example of examples) {
      const prompt = tokenizer.encode(example.messages[0]!.content, { addSpecialTokens: false });
      promptTokens += prompt.length;
      for (const id of prompt) {
        const text = tokenizer.decode([id]);
        if (text.trim() === '' || isKeywordPiece(text)) continue;
        promptCharacters += text.trim().length;
        if (text.length > 1) promptFused += text.trim().length;
      }
      const ids = tokenizer.encode(example.completion, { addSpecialTokens: false });
      answerTokens += ids.length;
      for (const id of ids) {
        const length = tokenizer.decode([id]).length;
        answerCharacters += length;
        if (length > 1) fusedCharacters += length;
      }
    }
    const merges = tokenizer.vocabularySize - 260;
    const firstMerges = Array.from({ length: Math.min(8, merges) }, (_, index) => JSON.stringify(tokenizer.decode([260 + index]))).join(' ');
    console.log(
      `${String(vocabularySize).padStart(10)}  ${String(merges).padStart(6)}  ${(promptTokens / examples.length).toFixed(2).padStart(13)}  ` +
        `${(answerTokens / examples.length).toFixed(2).padStart(13)}  ${((100 * fusedCharacters) / answerCharacters).toFixed(1).padStart(17)}%  ` +
        `${((100 * promptFused) / promptCharacters).toFixed(1).padStart(25)}%  ${firstMerges}`,
    );
    tokenizer.dispose();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
