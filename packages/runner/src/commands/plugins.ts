// `lsp plugins`: every plugin found (config, --plugin, installed by keyword) with its version and components.
import type { Command } from 'commander';
import { describeComponents } from '../plugins/plugin-registry';
import { prepareRun } from './shared-options';

export function registerPluginsCommand(program: Command): void {
  program
    .command('plugins')
    .description('list every plugin found, with its version and components')
    .option('--json', 'print JSON instead of a table')
    .action(async (options: { json?: boolean }, command: Command) => {
      const { registry } = await prepareRun(command);
      if (options.json) {
        const listing = registry.plugins.map(({ plugin, origin }) => ({
          name: plugin.name,
          version: plugin.version,
          specificationVersion: plugin.specificationVersion,
          origin,
          components: describeComponents(plugin),
        }));
        console.log(JSON.stringify({ plugins: listing, warnings: registry.warnings }, null, 2));
        return;
      }
      if (registry.plugins.length === 0) {
        console.log('No plugins found. Install one (bun add lsp-plugin-<name>) or list it in lsp.config.ts.');
      }
      const nameWidth = Math.max(6, ...registry.plugins.map(({ plugin }) => plugin.name.length));
      const versionWidth = Math.max(7, ...registry.plugins.map(({ plugin }) => plugin.version.length));
      if (registry.plugins.length > 0) {
        console.log(`${'plugin'.padEnd(nameWidth)}  ${'version'.padEnd(versionWidth)}  ${'from'.padEnd(12)}  components`);
      }
      for (const { plugin, origin } of registry.plugins) {
        console.log(
          `${plugin.name.padEnd(nameWidth)}  ${plugin.version.padEnd(versionWidth)}  ${origin.padEnd(12)}  ${describeComponents(plugin)}`,
        );
      }
      for (const warning of registry.warnings) console.log(`not loaded: ${warning.message}`);
    });
}
