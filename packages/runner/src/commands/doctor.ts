// `lsp doctor`: reports Bun, the wasm modules, every WebGPU adapter and the CPU, and what to install.
import type { Command } from 'commander';
import { formatDoctor, runDoctor } from '../doctor/doctor';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('report Bun, the wasm modules, WebGPU adapters and the CPU, and what to install')
    .option('--json', 'print JSON instead of text')
    .action(async (options: { json?: boolean }) => {
      const sections = await runDoctor();
      console.log(options.json ? JSON.stringify(sections, null, 2) : formatDoctor(sections));
      if (sections.some((section) => section.essential && section.problems.length > 0)) process.exitCode = 1;
    });
}
