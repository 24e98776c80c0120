// The prompts of the self-play games for chat models: the Challenger's request for one hard input of a task
// type, and the reference model's 0..7 additive quality rubric with the parser of its tagged score.
import type { ChatMessage } from '@lsp/core';

/** The default task type: the paper trains general instruction following. */
export const defaultTaskTypes: readonly string[] = ['a general instruction that a user might give an AI assistant'];

/** Asks for one input of `taskType`, of any difficulty, meant to stress-test the Solver, with no answer inside. */
export function chatChallengerMessages(taskType: string): ChatMessage[] {
  return [
    {
      role: 'user',
      content: [
        'You are the Challenger in a game against another AI assistant, the Solver.',
        `Write one input of this kind for the Solver: ${taskType}.`,
        'Pick any difficulty. The input should stress-test the Solver: aim for something it is likely to answer badly, while keeping it a fair, sensible request that a real user could make.',
        'Write only the input itself, exactly as the user would send it. Include no answer, no solution, no hints and no remarks about the game.',
      ].join('\n'),
    },
  ];
}

/** The rubric's maximum: 2 points for the instruction, 5 for the answer. */
export const maxQualityScore = 7;

/** Asks the reference model to score a (query, answer) pair on the additive 0..7 rubric, ending in <score>N</score>. */
export function qualityJudgeMessages(query: string, answer: string): ChatMessage[] {
  return [
    {
      role: 'user',
      content: `Review the user instruction and the assistant's answer below and score them with this additive rubric. Points add up to a total from 0 to 7.

The instruction (up to 2 points):
- Add 1 point if one can tell what task the instruction asks for.
- Add 1 point if the instruction is clear, self-contained and well structured.

The answer (up to 5 points):
- Add 1 point if the answer can be understood and stays on the instruction's topic.
- Add 1 point if it takes up what the instruction actually asks, even if only in part.
- Add 1 point if it answers the core of the instruction usefully and correctly.
- Add 1 point if it is clear and concise, with no padding or repetition.
- Add 1 point if its form is pleasant to read: well organised, in a tone that suits the request.

<instruction>
${query}
</instruction>

<answer>
${answer}
</answer>

Say briefly which points you award, then give the total as <score>N</score>, where N is a whole number from 0 to 7.`,
    },
  ];
}

export interface QualityScore {
  /** The parsed total, or 0 when the reply holds none. */
  score: number;
  parsed: boolean;
}

const scoreTag = /<score>\s*([0-9]+)\s*<\/score>/gi;

/**
 * The score in the judge's reply: the last <score>N</score> tag (a reply may quote the format before giving its
 * verdict) with N a whole number in 0..7. Anything else counts 0 and is reported as unparsed.
 */
export function parseQualityScore(text: string): QualityScore {
  const matches = [...text.matchAll(scoreTag)];
  const last = matches[matches.length - 1];
  if (!last) return { score: 0, parsed: false };
  const score = Number(last[1]);
  if (!Number.isInteger(score) || score > maxQualityScore) return { score: 0, parsed: false };
  return { score, parsed: true };
}
