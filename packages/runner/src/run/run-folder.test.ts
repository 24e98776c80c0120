// Checkpoints: atomic replacement, the latest pointer, pruning, and a writer that fails leaving the last good one.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRunFolder, latestCheckpoint, saveCheckpoint } from './run-folder';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'lsp-run-'));
  createRunFolder(directory, { game: 'lsp', seed: 1 });
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const weights = (text: string) => async (target: string) => writeFileSync(join(target, 'weights.bin'), text);

describe('checkpoints', () => {
  test('a run folder starts with its config and no checkpoint', () => {
    expect(JSON.parse(readFileSync(join(directory, 'config.json'), 'utf8'))).toEqual({ game: 'lsp', seed: 1 });
    expect(latestCheckpoint(directory)).toBeUndefined();
  });

  test('the latest checkpoint is found with its state, and old ones are pruned', async () => {
    for (const iteration of [1, 2, 3]) {
      await saveCheckpoint(directory, { iteration, elapsedSeconds: iteration * 10 }, weights(`w${iteration}`));
    }
    const latest = latestCheckpoint(directory)!;
    expect(latest.state).toEqual({ iteration: 3, elapsedSeconds: 30 });
    expect(readFileSync(join(latest.directory, 'weights.bin'), 'utf8')).toBe('w3');
    const kept = readdirSync(join(directory, 'checkpoints')).filter((name) => name.startsWith('iteration-')).sort();
    expect(kept).toEqual(['iteration-000002', 'iteration-000003']);
  });

  test('a writer that fails leaves the previous checkpoint as the latest', async () => {
    await saveCheckpoint(directory, { iteration: 5, elapsedSeconds: 1 }, weights('good'));
    await expect(
      saveCheckpoint(directory, { iteration: 6, elapsedSeconds: 2 }, async () => {
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    const latest = latestCheckpoint(directory)!;
    expect(latest.state.iteration).toBe(5);
    expect(readFileSync(join(latest.directory, 'weights.bin'), 'utf8')).toBe('good');
    expect(existsSync(join(directory, 'checkpoints', 'iteration-000006'))).toBe(false);
  });

  test('a damaged pointer is reported in one line naming the file', () => {
    writeFileSync(join(directory, 'checkpoints', 'latest.json'), '{not json');
    expect(() => latestCheckpoint(directory)).toThrow('latest.json: not valid JSON');
  });
});
