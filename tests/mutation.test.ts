// Mutation tests of every parser of user files (tests/support/mutation-targets.ts): thousands of mutated inputs,
// each in a process capped at 4 GiB of address space, must load or be refused with one clear line; never an
// internal error, a hang, or a peak memory beyond a small multiple of the input. LSP_MUTATIONS (cases per parser,
// default 1000) and LSP_MUTATION_SEED run it longer or differently by hand: `bun run fuzz:parsers`.
import { describe, expect, test } from 'bun:test';
import { join } from 'node:path';
import { mutationTargets } from './support/mutation-targets';

const cases = Number(process.env.LSP_MUTATIONS ?? 1000);
const seed = Number(process.env.LSP_MUTATION_SEED ?? 20261204);
const child = join(import.meta.dir, 'support', 'mutation-child.ts');
/** A case that shows no progress for this long is a hang (cases take milliseconds). */
const hangSeconds = 120;

interface Summary { target: string; cases: number; accepted: number; refused: number; failures: string[] }

async function runTarget(name: string, index: number): Promise<Summary> {
  const command = `ulimit -v ${4 * 1024 * 1024} && exec "$0" "$@"`;
  const process_ = Bun.spawn(['bash', '-c', command, process.execPath, child, name, String(cases), String(seed + index)], {
    stdout: 'pipe', stderr: 'pipe', cwd: join(import.meta.dir, '..'),
  });
  let lastCase = '';
  let hung = false;
  let timer = setTimeout(() => { hung = true; process_.kill('SIGKILL'); }, hangSeconds * 1000);
  const stderr = (async () => {
    let text = '';
    for await (const chunk of process_.stderr) {
      text += new TextDecoder().decode(chunk);
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      const caseLines = lines.filter((line) => line.startsWith('case '));
      if (caseLines.length > 0) {
        lastCase = caseLines[caseLines.length - 1]!;
        clearTimeout(timer);
        timer = setTimeout(() => { hung = true; process_.kill('SIGKILL'); }, hangSeconds * 1000);
      }
      const other = lines.filter((line) => !line.startsWith('case ') && line.trim() !== '');
      if (other.length > 0) lastCase += ` | ${other.slice(-3).join(' | ')}`;
    }
  })();
  const [stdout, code] = await Promise.all([new Response(process_.stdout).text(), process_.exited, stderr]);
  clearTimeout(timer);
  if (hung) return { target: name, cases: 0, accepted: 0, refused: 0, failures: [`no progress for ${hangSeconds} s at ${lastCase}`] };
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !last.startsWith('{')) {
    return { target: name, cases: 0, accepted: 0, refused: 0, failures: [`the process ended with code ${code} at ${lastCase}`] };
  }
  return JSON.parse(last) as Summary;
}

describe(`mutated inputs (${cases} per parser) load or are refused in one line`, () => {
  mutationTargets.forEach((target, index) => {
    test(target.name, async () => {
      const summary = await runTarget(target.name, index);
      console.log(`${target.name}: ${summary.accepted} loaded, ${summary.refused} refused, ${summary.failures.length} failed`);
      expect(summary.failures.slice(0, 5)).toEqual([]);
      expect(summary.cases).toBe(cases);
      // Both outcomes occur, so the mutations reach past the first check and the parser refuses something.
      expect(summary.accepted).toBeGreaterThan(0);
      expect(summary.refused).toBeGreaterThan(0);
    }, 900_000);
  });
});
