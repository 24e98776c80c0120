// The loader and the plugin: memory owned by the typed loader (no growth over millions of calls), a wasm panic
// turned into a readable error with a fresh instance after it, token/id lookups, and the plugin's shape.
import { describe, expect, test } from 'bun:test';
import { componentShapes, pluginHeaderShape } from '@lsp/core';
import tokenizerWasm from './index';
import { generateCorpus } from './tokenizer-corpus';
import { packagedModelFolder } from './tokenizer-test-support';
import { loadTokenizerSync } from './tokenizer-wasm';
import { tokenizerModule } from './tokenizer-wasm-module';

describe('wasm memory', () => {
  test('two million encode and decode calls leave the wasm memory where it was', () => {
    const tokenizer = loadTokenizerSync(packagedModelFolder('llama3'));
    const texts = generateCorpus(3, 60_000).flatMap((document) => document.match(/.{1,40}/gsu) ?? []).slice(0, 1000);
    const encoded = texts.map((text) => tokenizer.encode(text));
    const memory = () => tokenizerModule().memoryBytes();
    for (let round = 0; round < 50; round++) {
      for (let index = 0; index < texts.length; index++) tokenizer.decode(tokenizer.encode(texts[index]!));
    }
    const before = memory();
    let checksum = 0;
    for (let round = 0; round < 1000; round++) {
      for (let index = 0; index < texts.length; index++) {
        const ids = tokenizer.encode(texts[index]!);
        checksum += ids.length + tokenizer.decode(encoded[index]!).length;
      }
    }
    expect(memory()).toBe(before);
    expect(checksum).toBe(1000 * texts.reduce((sum, text, index) => sum + encoded[index]!.length + text.length, 0));
    tokenizer.dispose();
  }, 120_000);

  test('loading and disposing a tokenizer again and again does not grow memory', () => {
    const folder = packagedModelFolder('llama2');
    loadTokenizerSync(folder).dispose();
    const before = tokenizerModule().memoryBytes();
    for (let round = 0; round < 10; round++) loadTokenizerSync(folder).dispose();
    expect(tokenizerModule().memoryBytes()).toBe(before);
  }, 60_000);

  test('a panic inside wasm becomes a readable error, and the next call gets a fresh instance', () => {
    const module = tokenizerModule();
    expect(() => module.call((wasm) => wasm.tk_self_test_panic(7))).toThrow('tokenizer wasm panicked: panicked at \'self-test panic with code 7\'');
    expect(module.broken).toBe(true);
    const fresh = tokenizerModule();
    expect(fresh).not.toBe(module);
    expect(fresh.call((wasm) => wasm.tk_self_test_panic(0))).toBe(0);
  });
});

describe('lookups and the plugin', () => {
  test('token and id lookups, vocabulary size and special token ids of Llama 3', () => {
    const tokenizer = loadTokenizerSync(packagedModelFolder('llama3'));
    expect(tokenizer.vocabularySize).toBe(128256);
    expect(tokenizer.tokenToId('<|begin_of_text|>')).toBe(128000);
    expect(tokenizer.specialTokenIds.bos).toBe(128000);
    expect(tokenizer.specialTokenIds.eos).toEqual([128001, 128009]);
    const hello = tokenizer.encode('Hello', { addSpecialTokens: false });
    expect(hello.length).toBe(1);
    expect(tokenizer.idToToken(hello[0]!)).toBe('Hello');
    expect(tokenizer.tokenToId('Hello')).toBe(hello[0]);
    expect(tokenizer.tokenToId('Ġworld')).toBe(tokenizer.encode(' world', { addSpecialTokens: false })[0]);
    expect(tokenizer.tokenToId('no such token anywhere')).toBeUndefined();
    expect(tokenizer.idToToken(999_999)).toBeUndefined();
    expect(() => tokenizer.decode([5, 999_999])).toThrow('id 999999 is out of range');
    expect(() => tokenizer.decode([-1])).toThrow('decode: id -1 is not a valid token id');
    tokenizer.dispose();
    expect(() => tokenizer.encode('x')).toThrow('tokenizer was disposed');
  });

  test('the plugin passes the runner\'s shape checks and its loader loads a folder', async () => {
    const plugin = tokenizerWasm();
    expect(pluginHeaderShape.parse(plugin).name).toBe('@lsp/tokenizer-wasm');
    expect(plugin.specificationVersion).toBe('v1');
    const loader = plugin.tokenizers![0]!;
    expect(componentShapes.tokenizers.parse(loader).name).toBe('wasm');
    const tokenizer = await loader.load(packagedModelFolder('qwen3'));
    expect(tokenizer.specificationVersion).toBe('v1');
    expect(await tokenizer.encodeBatch(['a', 'b c'])).toEqual([tokenizer.encode('a'), tokenizer.encode('b c')]);
    tokenizer.dispose();
  });
});

describe('texts given as UTF-8', () => {
  test('encodeBatchUtf8 gives the ids of encodeBatchFlat, and refuses lengths that do not add up', () => {
    const tokenizer = loadTokenizerSync(packagedModelFolder('llama3'));
    try {
      const texts = ['héllo wörld', '', '日本語のテキスト 123', 'plain'];
      const parts = texts.map((text) => new TextEncoder().encode(text));
      const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
      let offset = 0;
      for (const part of parts) {
        bytes.set(part, offset);
        offset += part.length;
      }
      const lengths = Uint32Array.from(parts, (part) => part.length);
      const utf8 = tokenizer.encodeBatchUtf8(bytes, lengths);
      const reference = tokenizer.encodeBatchFlat(texts);
      expect(utf8.counts).toEqual(reference.counts);
      expect(utf8.ids).toEqual(reference.ids);
      expect(() => tokenizer.encodeBatchUtf8(bytes, Uint32Array.of(1, 2))).toThrow(/lengths add up to 3 bytes, but \d+ were given/);
    } finally {
      tokenizer.dispose();
    }
  });
});
