// `lsp bench --benchmark NAME --data FILE (--model DIR | --responses FILE)`: one benchmark's figures on a model's
// answers or on given answers. The logic is selfplay/bench-run.ts; this file parses flags.
import { InvalidInputError } from '@lsp/core';
import type { Command } from 'commander';
import { type BenchOptions, formatFigures, runBench } from '../selfplay/bench-run';
import { parseInteger, parseNumber, prepareRun } from './shared-options';

/** The flags: BenchOptions as commander gives them (seed from the root command, switches possibly absent). */
type BenchFlags = Omit<BenchOptions, 'seed' | 'allowCodeExecution' | 'benchmarkOptions'> & {
  seed?: number;
  allowCodeExecution?: boolean;
  backend?: string;
};

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('score a benchmark (world, gsm8k, math, humaneval, mbpp, ifeval...) on a model\'s answers or on given answers')
    .requiredOption('--benchmark <name>', 'the benchmark (a benchmark plugin\'s name; `lsp plugins` lists them)')
    .option('--data <file>', 'the benchmark\'s data file in its published format')
    .option('--model <dir>', 'model folder whose answers are generated ("builtin" for the built-in model)')
    .option('--responses <file>', 'JSONL of given answers to score instead: {"prompt"|"instruction"|"question"|"problem"|"task_id", "response"|"output"}')
    .option('--limit <n>', 'only the first N items', parseInteger('--limit'))
    .option('--temperature <t>', 'sample answers at this temperature instead of greedily', parseNumber('--temperature'), 0)
    .option('--samples <n>', 'answers drawn per item when sampling (pass@k needs several)', parseInteger('--samples'), 1)
    .option('--max-tokens <n>', 'longest answer, in tokens', parseInteger('--max-tokens'), 512)
    .option('--allow-code-execution', 'run model-written code against the tests (humaneval, mbpp): it is untrusted code')
    .option('--json <file>', 'write every item\'s answers and score (and details) as JSON, updated as it goes')
    .option('--judge <name>', 'judge for benchmarks that compare answers (alpacaeval); its options: judgeOptions in lsp.config.ts')
    .option('--baseline <dir>', 'model folder whose answers are the reference to compare with (alpacaeval), instead of the file\'s outputs')
    .option('--backend <name>', 'compute backend: auto, wasm, webgpu')
    .action(async (_flags: unknown, command: Command) => {
      // The root command also declares --model, --backend and --seed (for `lsp run`): read them merged.
      const flags = command.optsWithGlobals() as BenchFlags;
      if (flags.temperature < 0) throw new InvalidInputError(`--temperature must be 0 or more, got ${flags.temperature}`);
      if (flags.maxTokens < 1) throw new InvalidInputError(`--max-tokens must be at least 1, got ${flags.maxTokens}`);
      if (flags.samples < 1) throw new InvalidInputError(`--samples must be at least 1, got ${flags.samples}`);
      if (flags.limit !== undefined && flags.limit < 1) throw new InvalidInputError(`--limit must be at least 1, got ${flags.limit}`);
      if (flags.samples > 1 && flags.temperature === 0) {
        throw new InvalidInputError('--samples above 1 needs --temperature above 0 (greedy answers are all the same)');
      }
      const { resolved, registry } = await prepareRun(command, { ...(flags.backend ? { backend: flags.backend } : {}) });
      const { backend: _backend, ...benchFlags } = flags;
      const result = await runBench(registry, resolved.config, {
        ...benchFlags, seed: flags.seed ?? 0, allowCodeExecution: flags.allowCodeExecution === true,
      }, (line) => console.error(`lsp bench: ${line}`));
      const source = flags.responses ? `responses ${flags.responses}` : `model ${flags.model}`;
      console.log(`${flags.benchmark}${flags.data ? ` (${flags.data})` : ''}, ${source}: ${result.items.length} items scored` +
        (result.unanswered > 0 ? `, ${result.unanswered} without a response` : ''));
      console.log(formatFigures(result.figures));
      if (flags.json) console.log(`every item's answers and score: ${flags.json}`);
    });
}
