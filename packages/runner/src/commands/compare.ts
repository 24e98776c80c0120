// `lsp compare RUN...`: runs side by side (mean and 95% interval over seeds), in the terminal and an HTML page.
import type { Command } from 'commander';
import { renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compareRuns, formatComparisonTable, renderComparisonHtml } from '../compare/run-comparison';

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('compare runs: held-out score at start and end and zero-variance groups, mean and 95% interval over seeds')
    .argument('<runs...>', 'run folders written by `lsp run`')
    .option('--html <path>', 'also write an HTML page', 'comparison.html')
    .action((runs: string[], options: { html: string }) => {
      const comparisons = compareRuns(runs);
      console.log(formatComparisonTable(comparisons));
      const path = resolve(options.html);
      writeFileSync(`${path}.tmp`, renderComparisonHtml(comparisons));
      renameSync(`${path}.tmp`, path);
      console.log(`\nWrote ${path}`);
    });
}
