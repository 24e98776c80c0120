// The adapter probe run in a child process by the backend's availability check: Dawn prints warnings on stderr
// while it lists adapters, and a broken driver can take a process down, neither of which should reach a run
// that only asked whether a GPU is there. Prints one JSON document: the adapters, the index of the one chosen
// (argv[2] or LSP_WEBGPU_ADAPTER, else the best ranked) or the reason none is.
import { acquireInstance, chooseAdapter, listAdapters, releaseInstance, summarize } from './webgpu-adapter';

const choice = process.argv[2];
let output: { adapters: ReturnType<typeof summarize>[]; chosen: number | null; error?: string };
try {
  const gpu = acquireInstance();
  try {
    const adapters = await listAdapters(gpu);
    let chosen: number | null = null;
    let error: string | undefined;
    try {
      if (adapters.length > 0) chosen = adapters.indexOf(chooseAdapter(adapters, choice === undefined || choice === '' ? undefined : choice));
    } catch (reason) {
      error = (reason as Error).message;
    }
    output = { adapters: adapters.map((adapter, index) => summarize(adapter, index)), chosen, ...(error ? { error } : {}) };
  } finally {
    releaseInstance();
  }
} catch (reason) {
  output = { adapters: [], chosen: null, error: `cannot load Dawn (npm webgpu): ${(reason as Error).message}; install libvulkan1 and a Vulkan driver` };
}
process.stdout.write(JSON.stringify(output));
process.exit(0);
