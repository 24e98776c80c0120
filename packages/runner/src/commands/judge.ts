// `lsp judge --judge NAME [--judge-model DIR] [--judge-option key=value ...] --input FILE.jsonl`: any judge scores
// a file of {"query","answer"} lines, one {"score"} line out per line in. The logic is judge/judge-file.ts.
import type { Command } from 'commander';
import { judgeOptionsWithFlags, runJudgeFile, type JudgeFlags } from '../judge/judge-file';
import { collect, prepareRun } from './shared-options';

type JudgeCommandFlags = JudgeFlags & { judge?: string; input: string; backend?: string };

export function registerJudgeCommand(program: Command): void {
  program
    .command('judge')
    .description('score a JSONL file of {"query","answer"} lines with a judge: one {"score"} line out per line in')
    .option('--judge <name>', 'the judge: world, reward-model, openai, or one a plugin adds (default: the config\'s)')
    .option('--judge-model <dir>', 'the judge\'s model folder (judgeOptions.model; the reward-model judge\'s *ForSequenceClassification folder)')
    .option('--judge-option <key=value>', 'a judge option, the value read as JSON when it is JSON (repeatable)', collect)
    .requiredOption('--input <file>', 'JSONL file, one {"query","answer"} object per line')
    .option('--backend <name>', 'compute backend for judges that run a model: auto, wasm')
    .action(async (_flags: unknown, command: Command) => {
      // The root command also declares --judge, --judge-model and --backend (for `lsp run`): read them merged.
      const flags = command.optsWithGlobals() as JudgeCommandFlags;
      const { resolved, registry } = await prepareRun(command, { judge: flags.judge, backend: flags.backend });
      const { config } = resolved;
      const judge = await registry.get('judges', config.judge).create(judgeOptionsWithFlags(config, flags));
      try {
        const count = await runJudgeFile(judge, flags.input, (line) => process.stdout.write(`${line}\n`));
        console.error(`lsp judge: ${count} lines scored by judge ${judge.name}`);
      } finally {
        (judge as { dispose?: () => void }).dispose?.();
      }
    });
}
