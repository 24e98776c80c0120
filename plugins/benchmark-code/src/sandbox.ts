// Runs one untrusted Python program: a separate python3 process in a throwaway working folder, with a time
// limit (wall clock, killed with its whole process group), a memory limit (RLIMIT_AS set in the child before
// the program is compiled), no network (a new network namespace through `unshare -n` where the system allows
// one), and an environment built from nothing, so no secret of the parent's reaches it. The folder is removed
// afterwards whatever happened.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '@lsp/core';

export type ExecutionStatus = 'passed' | 'failed' | 'timeout' | 'memory';

export interface ExecutionResult {
  status: ExecutionStatus;
  /** The process's exit code, or null when a signal ended it. */
  exitCode: number | null;
  signal: string | null;
  /** Wall-clock seconds from start to exit. */
  seconds: number;
  /** The last few kilobytes of standard error (the traceback of a failed test). */
  stderr: string;
  /** The throwaway working folder (already removed when the result is returned). */
  workDirectory: string;
  /** Whether the program ran in its own network namespace. */
  networkIsolated: boolean;
}

export interface SandboxOptions {
  /** Wall-clock limit in seconds. */
  timeLimitSeconds: number;
  /** Address-space limit of the child in MiB. */
  memoryLimitMiB: number;
  /** The python3 executable (resolved by `findPython`). */
  python: string;
}

const stderrTailBytes = 8192;
const fileSizeLimitBytes = 64 * 1024 * 1024;

/**
 * The harness the child runs (`python3 -I -B -c HARNESS MEMORY CPU`): a session of its own (so the parent can
 * kill every process it starts), the limits, then program.py compiled and run with destructive functions
 * switched off, as the HumanEval reference does. Exit 0: the tests passed; 3: out of memory; 1: anything else,
 * `exit()` and `sys.exit()` included (a program must not stop the tests early and pass).
 */
const harness = String.raw`
import os, sys, resource

def _limits():
    memory, cpu = int(sys.argv[1]), int(sys.argv[2])
    try:
        os.setsid()
    except OSError:
        pass
    for kind, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_DATA, memory),
                        (resource.RLIMIT_CPU, cpu), (resource.RLIMIT_FSIZE, ${fileSizeLimitBytes}),
                        (resource.RLIMIT_CORE, 0)):
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            pass

def _switch_off():
    import builtins, shutil, subprocess
    builtins.exit = None
    builtins.quit = None
    for name in ('kill', 'killpg', 'system', 'putenv', 'unsetenv', 'remove', 'removedirs', 'rmdir', 'unlink',
                 'rename', 'renames', 'replace', 'truncate', 'chdir', 'fchdir', 'chmod', 'fchmod', 'lchmod',
                 'chown', 'fchown', 'lchown', 'chroot', 'fork', 'forkpty', 'setsid', 'setpgid', 'setuid',
                 'setgid', 'popen', 'posix_spawn', 'posix_spawnp', 'execv', 'execve', 'execvp', 'execvpe',
                 'execl', 'execle', 'execlp', 'execlpe', 'spawnv', 'spawnve', 'spawnvp', 'spawnvpe', 'spawnl',
                 'spawnle', 'spawnlp', 'spawnlpe', 'link', 'symlink', 'mkfifo', 'mknod'):
        if hasattr(os, name):
            setattr(os, name, None)
    shutil.rmtree = None
    shutil.move = None
    shutil.chown = None
    subprocess.Popen = None

def _run():
    _limits()
    with open('program.py', encoding='utf-8') as handle:
        code = compile(handle.read(), 'program.py', 'exec')
    _switch_off()
    exec(code, {'__name__': '__main__', '__builtins__': __builtins__})

try:
    _run()
except MemoryError:
    os.write(2, b'MemoryError: the program went over its memory limit\n')
    os._exit(3)
except SystemExit as stop:
    os.write(2, ('SystemExit(%r): the program stopped before its tests finished\n' % (stop.code,)).encode())
    os._exit(1)
except BaseException:
    import traceback
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
sys.stderr.flush()
os._exit(0)
`;

const pythonCache = new Map<string, string>();

/**
 * The python3 to run programs with: `explicit` when given, else Debian's /usr/bin/python3, else python3 on
 * PATH; returned as the real interpreter (`sys.executable`, so a pyenv shim is looked through). Throws one
 * UnavailableError line when none runs.
 */
export function findPython(benchmark: string, explicit?: string): string {
  const key = explicit ?? '';
  const cached = pythonCache.get(key);
  if (cached) return cached;
  const candidates = explicit ? [explicit] : ['/usr/bin/python3', Bun.which('python3')].filter((path): path is string => !!path);
  for (const candidate of candidates) {
    if (candidate.includes('/') && !existsSync(candidate)) continue;
    const probe = spawnSync(candidate, ['-c', 'import sys, resource; print(sys.executable)'], { encoding: 'utf8', timeout: 30_000 });
    if (probe.status === 0) {
      const executable = probe.stdout.trim();
      const resolved = executable !== '' && existsSync(executable) ? executable : candidate;
      pythonCache.set(key, resolved);
      return resolved;
    }
  }
  const looked = explicit ? explicit : '/usr/bin/python3 and python3 on PATH';
  throw new UnavailableError(`benchmark ${benchmark}: no working python3 to run the tests (looked for ${looked})`, {
    hint: 'install python3 (apt-get install python3) or give its path as the python option',
  });
}

let networkPrefix: string[] | null | undefined;
let networkWarned = false;

/** The command prefix that gives the child a network namespace of its own, or null when the system allows none. */
export function networkIsolationPrefix(): string[] | null {
  if (networkPrefix !== undefined) return networkPrefix;
  networkPrefix = null;
  const unshare = Bun.which('unshare') ?? (existsSync('/usr/bin/unshare') ? '/usr/bin/unshare' : undefined);
  if (unshare) {
    // As root a network namespace needs no more; otherwise a user namespace (mapped to root) comes with it.
    for (const flags of [['-n'], ['-r', '-n']]) {
      const probe = spawnSync(unshare, [...flags, 'true'], { stdio: 'ignore', timeout: 10_000 });
      if (probe.status === 0) {
        networkPrefix = [unshare, ...flags];
        break;
      }
    }
  }
  return networkPrefix;
}

/** The child's whole environment: nothing inherited from the parent. */
function childEnvironment(workDirectory: string, isolated: boolean): Record<string, string> {
  const environment: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: workDirectory,
    TMPDIR: workDirectory,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    PYTHONHASHSEED: '0',
    OMP_NUM_THREADS: '1',
  };
  if (!isolated) {
    // Without a namespace, at least send proxy-aware clients to a closed local port.
    for (const name of ['http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY']) {
      environment[name] = 'http://127.0.0.1:9';
    }
    environment.no_proxy = '';
    environment.NO_PROXY = '';
  }
  return environment;
}

/** Keeps the last `limit` bytes of a stream, reading until it ends or `stop` resolves. */
async function readTail(stream: ReadableStream<Uint8Array>, limit: number, stop: Promise<void>): Promise<string> {
  const reader = stream.getReader();
  let tail = new Uint8Array(0);
  let stopped = false;
  void stop.then(() => {
    stopped = true;
    void reader.cancel().catch(() => {});
  });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || stopped) break;
      const joined = new Uint8Array(tail.length + value.length);
      joined.set(tail);
      joined.set(value, tail.length);
      tail = joined.length > limit ? joined.slice(joined.length - limit) : joined;
    }
  } catch {
    // A cancelled read ends the tail.
  }
  return new TextDecoder().decode(tail);
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // No such group: the child had not made its session yet, or it is gone.
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** Runs `program` as program.py in a fresh folder under the limits; the folder is removed before returning. */
export async function runPythonProgram(benchmark: string, program: string, options: SandboxOptions): Promise<ExecutionResult> {
  const prefix = networkIsolationPrefix();
  if (!prefix && !networkWarned) {
    networkWarned = true;
    console.warn(`benchmark ${benchmark}: no network namespace available (unshare -n failed); model code runs without network isolation, proxies pointed at a closed port`);
  }
  const workDirectory = await mkdtemp(join(tmpdir(), 'lsp-code-'));
  const started = performance.now();
  try {
    await writeFile(join(workDirectory, 'program.py'), program);
    const memoryBytes = Math.floor(options.memoryLimitMiB * 1024 * 1024);
    const cpuSeconds = Math.ceil(options.timeLimitSeconds) + 1;
    const child = Bun.spawn({
      cmd: [...(prefix ?? []), options.python, '-I', '-B', '-c', harness, String(memoryBytes), String(cpuSeconds)],
      cwd: workDirectory,
      env: childEnvironment(workDirectory, prefix !== null),
      stdin: 'ignore',
      stdout: 'ignore',
      stderr: 'pipe',
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeLimitSeconds * 1000);
    let release = () => {};
    const stop = new Promise<void>((resolve) => (release = resolve));
    const stderrTail = readTail(child.stderr, stderrTailBytes, stop);
    const exitCode = await child.exited;
    clearTimeout(timer);
    // Anything the program left running in its session goes with it.
    killGroup(child.pid);
    const grace = setTimeout(release, 1000);
    const stderr = await stderrTail;
    clearTimeout(grace);
    release();
    const signal = child.signalCode === null || child.signalCode === undefined ? null : String(child.signalCode);
    let status: ExecutionStatus;
    if (timedOut || signal === 'SIGXCPU') status = 'timeout';
    else if (exitCode === 0 && signal === null) status = 'passed';
    else if (exitCode === 3 && stderr.includes('MemoryError')) status = 'memory';
    else status = 'failed';
    return {
      status,
      exitCode: signal === null ? exitCode : null,
      signal,
      seconds: (performance.now() - started) / 1000,
      stderr,
      workDirectory,
      networkIsolated: prefix !== null,
    };
  } finally {
    await rm(workDirectory, { recursive: true, force: true });
  }
}
