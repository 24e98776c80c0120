// The program each benchmark runs: the model's completion put together with the task's tests the way the
// reference harnesses do (HumanEval: prompt + completion + test + `check(entry_point)`; MBPP: setup code +
// code + the asserts of test_list), after taking the code out of a Markdown fence when the model wrote one.

/** The code of a completion: the first ```python (or ```py, or unlabelled) fenced block when there is one, else the text itself. */
export function extractCode(completion: string): string {
  const fence = /```[ \t]*([\w+-]*)[ \t]*\r?\n([^]*?)(?:```|$)/g;
  let first: string | undefined;
  for (let match = fence.exec(completion); match; match = fence.exec(completion)) {
    const language = match[1]!.toLowerCase();
    const body = match[2]!;
    if (language === 'python' || language === 'py' || language === 'python3') return body;
    if (first === undefined && language === '') first = body;
  }
  return first ?? completion;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether the code defines `name` at the top level (a whole function rather than the body the prompt asks for). */
export function definesFunction(code: string, name: string): boolean {
  return new RegExp(`^(?:async\\s+)?def\\s+${escapeRegExp(name)}\\s*\\(`, 'm').test(code);
}

/**
 * The HumanEval program. A completion that continues the prompt (the function's body) is appended to it, as
 * the reference does. A completion that is a whole function (it defines `def <entry_point>(` at the start of a
 * line, as chat models write) runs after the prompt with the prompt's function closed by `pass`, so the
 * prompt's imports and helpers stay and the model's definition replaces the stub.
 */
export function humanEvalProgram(task: { prompt: string; test: string; entryPoint: string }, completion: string): string {
  const code = extractCode(completion);
  const prompt = task.prompt;
  const solution = definesFunction(code, task.entryPoint)
    ? `${prompt}${prompt.endsWith('\n') ? '' : '\n'}    pass\n\n${code}`
    : prompt + code;
  return `${solution}\n\n${task.test}\n\ncheck(${task.entryPoint})\n`;
}

/** MBPP's code: the fenced block, or what sits between the [BEGIN] and [DONE] markers of the paper's prompt format. */
export function extractMbppCode(completion: string): string {
  let code = extractCode(completion);
  const begin = code.indexOf('[BEGIN]');
  if (begin >= 0) code = code.slice(begin + '[BEGIN]'.length);
  const done = code.indexOf('[DONE]');
  if (done >= 0) code = code.slice(0, done);
  return code.replace(/^\s*\n/, '');
}

/** The MBPP program: setup code, the model's code, then every assert of test_list. */
export function mbppProgram(task: { testList: readonly string[]; testSetupCode: string }, completion: string): string {
  const setup = task.testSetupCode.trim() === '' ? '' : `${task.testSetupCode}\n\n`;
  return `${setup}${extractMbppCode(completion)}\n\n${task.testList.join('\n')}\n`;
}

/** The MBPP prompt of the paper (Austin et al., 2021): the task, then the tests the code must pass. */
export function mbppPrompt(text: string, testList: readonly string[]): string {
  return `You are an expert Python programmer, and here is your task: ${text} Your code should pass these tests:\n\n${testList.join('\n')}\n`;
}
