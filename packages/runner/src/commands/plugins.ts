// `lsp plugins`: every plugin found (config, --plugin, installed by keyword), first- and third-party side by side,
// with its version, where it came from and its components, then the ones refused and why.
import type { Command } from 'commander';
import { describeComponents, isFirstParty } from '../plugins/plugin-registry';
import { prepareRun } from './shared-options';

export function registerPluginsCommand(program: Command): void {
  program
    .command('plugins')
    .description('list every plugin found (first- and third-party), with its version, source and components')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { registry } = await prepareRun(command);
      const rows = registry.plugins.map(({ plugin, origin }) => ({
        name: plugin.name,
        version: plugin.version,
        specificationVersion: plugin.specificationVersion,
        party: isFirstParty(plugin) ? 'first-party' : 'third-party',
        origin,
        components: describeComponents(plugin),
      }));
      if (options.json) {
        console.log(JSON.stringify({ plugins: rows, warnings: registry.warnings }, null, 2));
        return;
      }
      if (rows.length === 0) {
        console.log('No plugins found. Install one (bun add lsp-plugin-<name>) or list it in lsp.config.ts.');
      } else {
        const columns = [
          { title: 'plugin', cell: (row: (typeof rows)[number]) => row.name },
          { title: 'version', cell: (row: (typeof rows)[number]) => row.version },
          { title: 'party', cell: (row: (typeof rows)[number]) => row.party },
          { title: 'source', cell: (row: (typeof rows)[number]) => row.origin },
        ];
        const widths = columns.map((column) => Math.max(column.title.length, ...rows.map((row) => column.cell(row).length)));
        const line = (cells: string[]) => cells.map((cell, index) => cell.padEnd(widths[index]!)).join('  ');
        console.log(`${line(columns.map((column) => column.title))}  components`);
        for (const row of rows) console.log(`${line(columns.map((column) => column.cell(row)))}  ${row.components}`);
      }
      for (const warning of registry.warnings) console.log(`not loaded: ${warning.message}`);
    });
}
