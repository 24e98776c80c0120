// The `lsp` command line: commander, one line per error, nearest-name suggestions, no stack traces.
import { LspError } from '@lsp/core';
import { Command, CommanderError } from 'commander';
import { commandRegistrations } from './commands/index';
import { addRunOptions, runCommand } from './commands/run';
import { collect } from './commands/shared-options';
import { runnerVersion } from './plugins/plugin-validation';
import { nearestName } from './suggest';

export function createProgram(): Command {
  const program = new Command('lsp');
  program
    .description('Language Self-Play: a model plays Challenger and Solver and learns from a judge, with no training data.')
    .version(runnerVersion, '-v, --version', 'print the version')
    .option('--plugin <name>', 'load a plugin by name (@lsp/<name>, lsp-plugin-<name>) or path; repeatable', collect)
    .option('--config <path>', 'experiment config file (default ./lsp.config.ts when present)')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', '\nWith no command, `lsp` runs the default experiment (the same as `lsp run`).');
  for (const register of commandRegistrations) register(program);
  // `lsp` alone runs the default experiment, with run's options.
  addRunOptions(program).action(async (options: Record<string, unknown>, command: Command) => {
    await runCommand(options, command);
  });
  return program;
}

/** Names of a command's subcommands and the long flags it and its ancestors accept. */
function commandNames(command: Command): string[] {
  return command.commands.flatMap((sub) => [sub.name(), ...sub.aliases()]);
}

function flagNames(command: Command | null): string[] {
  const names: string[] = [];
  for (let current = command; current; current = current.parent) {
    for (const option of current.options) if (option.long) names.push(option.long);
  }
  return [...names, '--help'];
}

/** The deepest command named by argv (for suggestions). */
function commandFor(program: Command, argv: readonly string[]): Command {
  let current = program;
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const next = current.commands.find((sub) => sub.name() === word || sub.aliases().includes(word));
    if (!next) break;
    current = next;
  }
  return current;
}

/** Rewrites commander's two-line messages into one line with our own nearest-name suggestion. */
export function describeCommanderError(error: CommanderError, program: Command, argv: readonly string[]): string {
  const firstLine = error.message.split('\n')[0]!.replace(/^error: /, '');
  const command = commandFor(program, argv);
  const unknownOption = /unknown option '([^']+)'/.exec(firstLine);
  if (unknownOption) {
    const suggestion = nearestName(unknownOption[1]!.split('=')[0]!, flagNames(command));
    return `unknown option '${unknownOption[1]}' for \`${commandPath(command)}\`` + (suggestion ? ` (did you mean ${suggestion}?)` : '') +
      `; see \`${commandPath(command)} --help\``;
  }
  const unknownCommand = /unknown command '([^']+)'/.exec(firstLine);
  if (unknownCommand) {
    const suggestion = nearestName(unknownCommand[1]!, commandNames(command));
    return `${firstLine}` + (suggestion ? ` (did you mean ${suggestion}?)` : '') + `; see \`${commandPath(command)} --help\``;
  }
  return `${firstLine}; see \`${commandPath(command)} --help\``;
}

function commandPath(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current; current = current.parent) names.unshift(current.name());
  return names.join(' ');
}

/** Refuses an unknown first word before commander would pass it to the default command as an argument. */
function checkUnknownCommand(program: Command, argv: readonly string[]): string | undefined {
  const valueFlags = new Set(program.options.filter((option) => option.required || option.optional).map((option) => option.long));
  for (let index = 0; index < argv.length; index++) {
    const word = argv[index]!;
    if (word.startsWith('-')) {
      if (!word.includes('=') && valueFlags.has(word)) index++;
      continue;
    }
    const names = commandNames(program);
    if (names.includes(word) || word === 'help') return undefined;
    const suggestion = nearestName(word, names);
    return `unknown command '${word}'` + (suggestion ? ` (did you mean ${suggestion}?)` : '') + '; see `lsp --help`';
  }
  return undefined;
}

/** Runs the CLI and returns the exit code. Errors print one line to stderr. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = createProgram();
  const unknown = checkUnknownCommand(program, argv);
  if (unknown) {
    console.error(`lsp: ${unknown}`);
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help and --version
      console.error(`lsp: ${describeCommanderError(error, program, argv)}`);
      return 2;
    }
    if (LspError.isInstance(error)) {
      console.error(`lsp: ${error.toLine()}`);
      return 1;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    console.error(`lsp: internal error: ${message} (set LSP_DEBUG=1 for the stack trace, and please report it)`);
    if (process.env.LSP_DEBUG) console.error(error);
    return 1;
  }
}
