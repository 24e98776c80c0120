// `lsp new plugin <name>`: writes a plugin package that builds and whose own test passes.
import type { Command } from 'commander';
import { relative } from 'node:path';
import { writePluginPackage } from '../scaffold/new-plugin';

export function registerNewCommand(program: Command): void {
  const create = program.command('new').description('create a new project file or package');
  create
    .command('plugin')
    .description('write a new plugin package (lsp-plugin-<name>) with a judge, a test and a build')
    .argument('<name>', 'short name: lower-case letters, digits and dashes')
    .option('--dir <path>', 'where to write it (default ./lsp-plugin-<name>)')
    .action((name: string, options: { dir?: string }) => {
      const target = writePluginPackage(name, options.dir);
      const shown = relative(process.cwd(), target) || '.';
      console.log(`Wrote ${target}`);
      console.log(`Next: cd ${shown} && bun install && bun run build && bun test`);
    });
}
