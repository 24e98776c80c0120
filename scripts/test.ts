// Runs the whole test suite with bun test and prints `N passed, N failed` (then `N skipped`) computed from the JUnit
// report bun writes, so CI reads real results. Extra arguments go to bun test (e.g. a path filter).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const reportDirectory = mkdtempSync(join(tmpdir(), 'lsp-test-'));
const reportPath = join(reportDirectory, 'junit.xml');
// Generous per-test limit: some tests build packages or check parity on megabytes of text. Speed is measured by
// the benchmark scripts, never by timed tests.
const child = Bun.spawn(
  [process.execPath, 'test', '--timeout', '600000', '--reporter=junit', `--reporter-outfile=${reportPath}`, ...process.argv.slice(2)],
  { stdout: 'inherit', stderr: 'inherit', stdin: 'ignore' },
);
const exitCode = await child.exited;

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
}

export function countJUnit(xml: string): TestCounts {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  for (const match of xml.matchAll(/<testcase\b[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const body = match[2] ?? '';
    if (/<(failure|error)\b/.test(body)) counts.failed++;
    else if (/<skipped\b/.test(body)) counts.skipped++;
    else counts.passed++;
  }
  return counts;
}

let counts: TestCounts = { passed: 0, failed: 0, skipped: 0 };
try {
  counts = countJUnit(readFileSync(reportPath, 'utf8'));
} catch {
  console.error('test: bun test wrote no JUnit report');
}
rmSync(reportDirectory, { recursive: true, force: true });
// A file that fails to load, or an error outside any test, fails the run without a failed test case of its own.
if (exitCode !== 0 && counts.failed === 0) {
  console.error(`test: bun test exited with code ${exitCode} outside any test case; counted as one failure`);
  counts.failed = 1;
}
// CI reads the line `N passed, N failed` exactly; skipped tests get a line of their own.
console.log(`${counts.passed} passed, ${counts.failed} failed`);
console.log(`${counts.skipped} skipped`);
process.exit(counts.failed > 0 || (counts.passed === 0 && counts.failed === 0) ? 1 : 0);
