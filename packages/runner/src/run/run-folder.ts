// A run's output folder: the resolved config, checkpoints written under a temporary name and renamed (so a
// kill at any moment leaves the last good checkpoint intact), and the pointer to the latest one.
import { InvalidInputError } from '@lsp/core';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const checkpointsDirectoryName = 'checkpoints';
export const latestFileName = 'latest.json';
export const checkpointStateFileName = 'state.json';

export interface CheckpointState {
  /** The last finished iteration; a resumed run starts at iteration + 1. */
  iteration: number;
  /** Seconds of run time before this checkpoint, so resumed runs report continuous time. */
  elapsedSeconds: number;
  /** Anything else the loop needs to continue exactly (data-set position, generator state). */
  extra?: Record<string, unknown>;
}

/** Writes a file atomically: a temporary name in the same folder, then a rename. */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

export function defaultRunDirectory(game: string, seed: number, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return resolve('runs', `${stamp}-${game}-seed${seed}`);
}

export function createRunFolder(directory: string, config: unknown): void {
  mkdirSync(join(directory, checkpointsDirectoryName), { recursive: true });
  writeFileAtomic(join(directory, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

function checkpointName(iteration: number): string {
  return `iteration-${String(iteration).padStart(6, '0')}`;
}

/**
 * Saves a checkpoint: `writeContents` fills a temporary folder (weights, optimizer state), then the state file is
 * added, the folder renamed into place, and latest.json pointed at it. Older checkpoints beyond `keep` are removed
 * only after the new one is in place.
 */
export async function saveCheckpoint(
  runDirectory: string,
  state: CheckpointState,
  writeContents: (directory: string) => Promise<void>,
  keep = 2,
): Promise<string> {
  const checkpoints = join(runDirectory, checkpointsDirectoryName);
  mkdirSync(checkpoints, { recursive: true });
  const name = checkpointName(state.iteration);
  const temporary = join(checkpoints, `.tmp-${name}-${process.pid}`);
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  await writeContents(temporary);
  writeFileSync(join(temporary, checkpointStateFileName), `${JSON.stringify(state, null, 2)}\n`);
  const final = join(checkpoints, name);
  rmSync(final, { recursive: true, force: true });
  renameSync(temporary, final);
  writeFileAtomic(join(checkpoints, latestFileName), `${JSON.stringify({ checkpoint: name, iteration: state.iteration })}\n`);
  const finished = readdirSync(checkpoints).filter((entry) => /^iteration-\d+$/.test(entry)).sort();
  for (const old of finished.slice(0, Math.max(0, finished.length - keep))) {
    if (old !== name) rmSync(join(checkpoints, old), { recursive: true, force: true });
  }
  return final;
}

/** The latest complete checkpoint of a run, or undefined when it has none yet. */
export function latestCheckpoint(runDirectory: string): { directory: string; state: CheckpointState } | undefined {
  const pointer = join(runDirectory, checkpointsDirectoryName, latestFileName);
  if (!existsSync(pointer)) return undefined;
  let name: string;
  try {
    name = (JSON.parse(readFileSync(pointer, 'utf8')) as { checkpoint: string }).checkpoint;
  } catch {
    throw new InvalidInputError(`${pointer}: not valid JSON`, { hint: 'the run folder is damaged' });
  }
  const directory = join(runDirectory, checkpointsDirectoryName, name);
  const statePath = join(directory, checkpointStateFileName);
  if (!existsSync(statePath)) {
    throw new InvalidInputError(`${pointer} names ${name}, which has no ${checkpointStateFileName}`, {
      hint: 'the run folder is damaged; start a new run',
    });
  }
  return { directory, state: JSON.parse(readFileSync(statePath, 'utf8')) as CheckpointState };
}
