// Every `lsp` subcommand, registered in the order `lsp --help` lists them. A command lives in its own file and
// exports `registerXCommand(program)`; keep the logic in the package that owns it and the file here thin.
import type { Command } from 'commander';
import { registerBenchCommand } from './bench';
import { registerCompareCommand } from './compare';
import { registerDoctorCommand } from './doctor';
import { registerEvalCommand } from './eval';
import { registerExportCommand } from './export';
import { registerGenerateCommand } from './generate';
import { registerJudgeCommand } from './judge';
import { registerMergeCommand } from './merge';
import { registerNewCommand } from './new';
import { registerPluginsCommand } from './plugins';
import { registerPretrainCommand } from './pretrain';
import { registerRunCommand } from './run';
import { registerScoreCommand } from './score';
import { registerServeCommand } from './serve';
import { registerTokenizeCommand } from './tokenize';

export const commandRegistrations: ((program: Command) => void)[] = [
  registerRunCommand,
  registerPluginsCommand,
  registerDoctorCommand,
  registerEvalCommand,
  registerBenchCommand,
  registerCompareCommand,
  registerGenerateCommand,
  registerScoreCommand,
  registerJudgeCommand,
  registerExportCommand,
  registerMergeCommand,
  registerServeCommand,
  registerTokenizeCommand,
  registerPretrainCommand,
  registerNewCommand,
];
