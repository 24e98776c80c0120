// Runs one mutation target in its own process (started by tests/mutation.test.ts under a memory cap): each mutated
// input must load or be refused with one clear line, never an internal error, and must not raise the process's
// peak memory by more than a small multiple of its size. Prints progress lines on stderr, a JSON summary on stdout.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LspError } from '@lsp/core';
import { seededRandom } from './mutate';
import { mutationTargets } from './mutation-targets';

const [targetName, countText, seedText] = process.argv.slice(2);
const target = mutationTargets.find((candidate) => candidate.name === targetName);
if (!target) throw new Error(`no mutation target "${targetName}"`);
const count = Number(countText);
const random = seededRandom(Number(seedText));

/** Peak resident memory since the last reset, and the resident memory now, in bytes (Linux /proc). */
function memory(): { peak: number; resident: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { peak: field('VmHWM'), resident: field('VmRSS') };
}
const resetPeak = () => writeFileSync('/proc/self/clear_refs', '5');

const allowance = (size: number) => 64 * 2 ** 20 + 16 * size;
const work = mkdtempSync(join(tmpdir(), 'lsp-mutation-'));
const summary = { target: target.name, cases: 0, accepted: 0, refused: 0, failures: [] as string[] };
try {
  const next = await target.prepare(work);
  for (let index = 0; index < count; index++) {
    const mutation = next(random);
    process.stderr.write(`case ${index}: ${mutation.edits.join('; ').slice(0, 300)}\n`);
    resetPeak();
    const before = memory().resident;
    let failure: string | undefined;
    try {
      await mutation.run();
      summary.accepted++;
    } catch (error) {
      if (LspError.isInstance(error) && !error.toLine().includes('\n') && error.toLine().trim() !== '') summary.refused++;
      else failure = `internal error ${(error as Error)?.name}: ${String((error as Error)?.message ?? error).split('\n')[0]}`;
    }
    const grown = memory().peak - before;
    if (grown > allowance(mutation.size)) failure ??= `peak memory grew by ${(grown / 2 ** 20).toFixed(0)} MiB for a ${mutation.size}-byte input`;
    if (failure) summary.failures.push(`case ${index} (${mutation.edits.join('; ').slice(0, 300)}): ${failure}`);
    summary.cases++;
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(JSON.stringify(summary));
