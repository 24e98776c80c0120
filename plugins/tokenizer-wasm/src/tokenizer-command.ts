// The logic of `lsp tokenize`: standard input line by line to one JSON array of ids per line (or, with decode,
// id arrays to JSON strings). This exact format is how parity with other tokenizers is checked from outside.
import { InvalidInputError } from '@lsp/core';
import { loadTokenizerSync } from './tokenizer-wasm';

export interface TokenizeOptions {
  /** A model folder or a tokenizer.json. */
  tokenizerPath: string;
  /** Each input line is one JSON string (so texts may hold newlines). */
  jsonl?: boolean;
  /** Encode: add the post-processor's special tokens (default true). Decode: keep special tokens (default true). */
  special?: boolean;
  /** Read JSON id arrays and write JSON strings. */
  decode?: boolean;
}

export interface TokenizeOutput {
  write(text: string): unknown;
}

/** Splits a stream of chunks into lines on '\n' (a last line without one counts; '\r' is kept as text). */
async function* lines(input: AsyncIterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let pending = '';
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      yield pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) yield pending;
}

function parseLine(line: string, lineNumber: number, what: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new InvalidInputError(`line ${lineNumber}: not ${what}: ${line.length > 80 ? `${line.slice(0, 80)}...` : line}`);
  }
}

/** Runs the tokenize command over `input`, writing one JSON value per line to `output`. */
export async function runTokenize(options: TokenizeOptions, input: AsyncIterable<string | Uint8Array>, output: TokenizeOutput): Promise<void> {
  const tokenizer = loadTokenizerSync(options.tokenizerPath);
  const special = options.special !== false;
  try {
    let lineNumber = 0;
    for await (const line of lines(input)) {
      lineNumber++;
      if (options.decode) {
        const ids = parseLine(line, lineNumber, 'a JSON array of ids');
        if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'number')) {
          throw new InvalidInputError(`line ${lineNumber}: expected a JSON array of ids, got ${line.slice(0, 80)}`);
        }
        let text: string;
        try {
          text = tokenizer.decode(ids as number[], { skipSpecialTokens: !special });
        } catch (error) {
          if (InvalidInputError.isInstance(error)) throw new InvalidInputError(`line ${lineNumber}: ${error.message}`);
          throw error;
        }
        output.write(`${JSON.stringify(text)}\n`);
      } else {
        let text = line;
        if (options.jsonl) {
          const value = parseLine(line, lineNumber, 'a JSON string');
          if (typeof value !== 'string') throw new InvalidInputError(`line ${lineNumber}: expected a JSON string, got ${line.slice(0, 80)}`);
          text = value;
        }
        output.write(`${JSON.stringify(tokenizer.encode(text, { addSpecialTokens: special }))}\n`);
      }
    }
  } finally {
    tokenizer.dispose();
  }
}
