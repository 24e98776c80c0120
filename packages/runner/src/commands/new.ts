// `lsp new plugin|game|judge|benchmark|backend <name>`: writes a plugin package that builds and whose own test passes.
import type { Command } from 'commander';
import { relative } from 'node:path';
import { writePluginPackage } from '../scaffold/new-plugin';
import type { PluginKind } from '../scaffold/plugin-template';

const kinds: { kind: PluginKind; description: string }[] = [
  { kind: 'plugin', description: 'a plugin package (lsp-plugin-<name>) with a judge, its unit tests and a build' },
  { kind: 'game', description: 'a game: a variant of lsp with its own Challenger reward, tested by self-play on the built-in world' },
  { kind: 'judge', description: 'a judge, tested on answers and by self-play on the built-in world' },
  { kind: 'benchmark', description: 'a benchmark, tested by scoring the built-in world\'s model and as a run\'s held-out score' },
  { kind: 'backend', description: 'a backend: a device on the reference kernels, tested kernel by kernel against the oracle and by training' },
];

export function registerNewCommand(program: Command): void {
  const create = program.command('new').description('create a new plugin package: plugin, game, judge, benchmark or backend');
  for (const { kind, description } of kinds) {
    create
      .command(kind)
      .description(`write ${description}`)
      .argument('<name>', 'short name: lower-case letters, digits and dashes')
      .option('--dir <path>', 'where to write it (default ./lsp-plugin-<name>)')
      .action((name: string, options: { dir?: string }) => {
        const target = writePluginPackage(name, { kind, ...(options.dir ? { directory: options.dir } : {}) });
        const shown = relative(process.cwd(), target) || '.';
        console.log(`Wrote ${target}`);
        console.log(`Next: cd ${shown} && bun install && bun run build && bun test`);
      });
  }
}
