// Config validation: defaults, overrides, and one-line errors naming the field.
import { ConfigError, defineConfig } from '@lsp/core';
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flattenPlugins, resolveConfig, validateConfig } from './load-config';

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'lsp-config-'));
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(ConfigError.isInstance(error)).toBe(true);
    const line = (error as ConfigError).toLine();
    expect(line).not.toContain('\n');
    return line;
  }
  throw new Error('expected a ConfigError');
}

describe('config validation', () => {
  test('an empty config gets the defaults, and leaves the algorithm settings to the game', () => {
    const config = validateConfig(undefined, {}, 'command line');
    expect(config.game).toBe('lsp');
    expect(config.backend).toBe('auto');
    expect(config.optimizer.maxGradientNorm).toBe(1);
    // With a model of the user's, the game owns the defaults of N, G, beta and the learning rate.
    expect(validateConfig({ model: '/models/llama' }, {}, 'x').training).toEqual({});
  });

  test('the built-in model gets the world preset; the config and flags still win over it', () => {
    const builtin = validateConfig(undefined, {}, 'command line');
    expect(builtin.training.learningRate).toBe(3e-4);
    expect(builtin.training.maxNewTokens).toBe(32);
    expect(builtin.training.klEstimator).toBe('k3');
    const mine = validateConfig({ training: { learningRate: 5e-5 } }, { iterations: 3 }, 'lsp.config.ts');
    expect(mine.training).toEqual({ learningRate: 5e-5, maxNewTokens: 32, klEstimator: 'k3' });
    expect(mine.iterations).toBe(3);
    // A model folder of the user's gets no preset: the game's (the paper's) defaults apply.
    expect(validateConfig({ model: '/models/llama' }, {}, 'lsp.config.ts').training).toEqual({});
  });

  test('command-line overrides win over the file, and undefined flags do not erase it', () => {
    const config = validateConfig({ iterations: 5, seed: 3 }, { seed: 7, game: undefined }, 'lsp.config.ts');
    expect(config.iterations).toBe(5);
    expect(config.seed).toBe(7);
    expect(config.game).toBe('lsp');
  });

  test('a wrong type names the file and the field', () => {
    const line = configError(() => validateConfig({ training: { learningRate: 'fast' } }, {}, 'lsp.config.ts'));
    expect(line).toContain('lsp.config.ts: training.learningRate:');
    expect(line).toContain('number');
  });

  test('an unknown field is named with its path', () => {
    expect(configError(() => validateConfig({ iteratons: 3 }, {}, 'lsp.config.ts'))).toContain('unknown field "iteratons"');
    expect(configError(() => validateConfig({ training: { bta: 1 } }, {}, 'lsp.config.ts'))).toContain('"training.bta"');
  });

  test('out-of-range values and bad enums are refused', () => {
    expect(configError(() => validateConfig({ iterations: 0 }, {}, 'x'))).toContain('iterations');
    expect(configError(() => validateConfig({ training: { klEstimator: 'k4' } }, {}, 'x'))).toContain('training.klEstimator');
  });

  test('a default export that is not an object is refused', () => {
    expect(configError(() => validateConfig(42, {}, 'lsp.config.ts'))).toContain('must be an object');
  });

  test('plugin presets are flattened and falsy entries dropped', () => {
    const a = { name: 'a' };
    const b = { name: 'b' };
    expect(flattenPlugins([a, false, null, [b, [undefined]]])).toEqual([a, b]);
  });
});

describe('config files', () => {
  test('lsp.config.ts in the working directory is found and typed by defineConfig', async () => {
    writeFileSync(
      join(directory, 'lsp.config.ts'),
      `export default { game: 'lsp-zero', iterations: 12, training: { answersPerQuery: 4 } };`,
    );
    const resolved = await resolveConfig({ cwd: directory, overrides: { seed: 2 } });
    expect(resolved.path).toBe(join(directory, 'lsp.config.ts'));
    expect(resolved.config.game).toBe('lsp-zero');
    expect(resolved.config.training.answersPerQuery).toBe(4);
    expect(resolved.config.seed).toBe(2);
    expect(defineConfig({ game: 'grpo' })).toEqual({ game: 'grpo' });
  });

  test('a missing --config file is refused', async () => {
    await expect(resolveConfig({ cwd: directory, configPath: 'missing.ts' })).rejects.toThrow('config file missing.ts not found');
  });

  test('a config that throws on import is refused in one line', async () => {
    writeFileSync(join(directory, 'broken.config.ts'), `throw new Error('bad config');\nexport default {};`);
    await expect(resolveConfig({ cwd: directory, configPath: 'broken.config.ts' })).rejects.toThrow('broken.config.ts failed to load: bad config');
  });

  test('a config without a default export is refused', async () => {
    writeFileSync(join(directory, 'named.config.ts'), `export const config = {};`);
    await expect(resolveConfig({ cwd: directory, configPath: 'named.config.ts' })).rejects.toThrow('has no default export');
  });
});
