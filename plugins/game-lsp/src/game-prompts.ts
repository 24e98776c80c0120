// The prompts of the self-play games for chat models: the Challenger's request for ONE input of a language task,
// made by filling a template (the paper's v3 structure, in our own words), and the reference model's 0..7 quality
// rubric (seven binary criteria, a justification, the sum in <Calculation> tags, the total in <Score> tags) with
// the parser of its tagged score.
import type { ChatMessage } from '@lsp/core';

/** What the Challenger is asked to write: a task name and a template with {placeholders}; either may be empty. */
export interface ChallengerTask {
  task: string;
  template: string;
}

/** Named task/template pairs: the paper's instruction following (both empty) and its mathematics task. */
export const challengerPresets = {
  'instruction-following': { task: '', template: '' },
  mathematics: { task: 'Pure & Applied Mathematics', template: '' },
} as const satisfies Record<string, ChallengerTask>;

export type ChallengerPresetName = keyof typeof challengerPresets;

export const templateStartMarker = '=== TEMPLATE START ===';
export const templateEndMarker = '=== TEMPLATE END ===';

/**
 * Asks for ONE input of the language task `task` (easy, intermediate, hard or noisy, meant to stress-test another
 * agent) by filling the {placeholders} of `template`, given between markers; empty task or template leave the
 * choice to the model.
 */
export function chatChallengerMessages(choice: ChallengerTask | string): ChatMessage[] {
  const { task, template } = typeof choice === 'string' ? { task: choice, template: '' } : choice;
  const taskText = task.trim();
  const templateText = template.trim();
  return [
    {
      role: 'user',
      content: [
        '## Background',
        'A language task can be described by pairs (input, output): the input is the text a user gives to a language ' +
          'agent, and the output is the text the agent should give back. Translation into French, for example, has ' +
          'an English sentence as input and its French version as output.',
        '',
        '## Your request',
        `Write ONE input for the language task '${taskText}'. It may be easy, intermediate, hard or noisy; choose it ` +
          'to stress-test another language agent, so that its weaknesses show. Write the input by filling in the ' +
          `{placeholders} of the template between the two markers below and keep the rest of the template as it is.`,
        templateStartMarker,
        templateText,
        templateEndMarker,
        '',
        '## Final remarks',
        '- Write the input only: no output, no answer, no hints and nothing else that gives the answer away.',
        '- Ask only for what a language agent can do with text alone.',
        '- Stop as soon as the template is filled.',
        '- If the task or the template above is empty, use your best judgement: pick the task yourself, or write the ' +
          'input in the form that suits it.',
      ].join('\n'),
    },
  ];
}

/** The rubric's maximum: seven criteria of one point each, two on the instruction and five on the response. */
export const maxQualityScore = 7;

/** The seven binary criteria of the quality rubric, in order (the instruction's two, then the response's five). */
export const qualityCriteria: readonly string[] = [
  'The task is clearly identifiable from the instruction.',
  'The instruction is clear, specific and well structured.',
  'The user will be able to understand the response.',
  'The response addresses a significant part of the question.',
  'The response answers the core elements of the question usefully and comprehensively.',
  'The response is clearly written, concise, well organised and helpful.',
  'The user will most likely like the form and style of the response.',
];

/**
 * Asks the reference model to review an (instruction, response) pair on the seven binary criteria: a brief
 * justification, the sum of the points inside <Calculation> tags, then the total inside <Score> tags.
 */
export function qualityJudgeMessages(query: string, answer: string): ChatMessage[] {
  const criteria = qualityCriteria.map((criterion, index) => `${index + 1}. ${criterion}`).join('\n');
  return [
    {
      role: 'user',
      content: `Review the user's instruction and the assistant's response below. Check each of these seven criteria and award 1 point for every one that holds and 0 for every one that does not, so the total is a whole number from 0 to 7.

${criteria}

<instruction>
${query}
</instruction>

<response>
${answer}
</response>

First justify each point in a few words. Then write the sum of the seven points between <Calculation> and </Calculation>, for example <Calculation>1 + 0 + 1 + 1 + 0 + 1 + 1 = 5</Calculation>. Finish with the total alone between <Score> and </Score>, for example <Score>5</Score>, and write nothing after it.`,
    },
  ];
}

export interface QualityScore {
  /** The parsed total, or 0 when the reply holds none. */
  score: number;
  parsed: boolean;
}

const unparsed: QualityScore = { score: 0, parsed: false };
/** Closed calculation blocks: whatever they hold (a Score tag included) is working, not the verdict. */
const calculationBlock = /<calculation\s*>[\s\S]*?<\/calculation\s*>/gi;
const scoreTag = /<score\s*>([^<]*)<\/score\s*>/gi;
/** A last Score tag the token budget cut before its close: accepted only at the very end of the reply. */
const unclosedFinalTag = /<score\s*>([^<]*)$/i;
/** A whole number, optionally written "N/7". */
const scoreValue = /^\s*([0-9]{1,3})\s*(?:\/\s*7\s*)?$/;

function tagValue(content: string): number | undefined {
  const match = scoreValue.exec(content);
  if (!match) return undefined;
  const value = Number(match[1]);
  return value <= maxQualityScore ? value : undefined;
}

/**
 * The total in the judge's reply: the last <Score>...</Score> tag outside <Calculation> blocks (a reply may quote
 * the format, or the response's own tag, before its verdict), which must hold a whole number in 0..7 (or "N/7").
 * A reply with no such tag, or whose last tag holds anything else (a word, a fraction, a number out of range),
 * counts 0 and is reported unparsed. A final tag cut off by the token budget ("... <Score>5") is read.
 */
export function parseQualityScore(text: string): QualityScore {
  if (typeof text !== 'string') return unparsed;
  const outside = text.replace(calculationBlock, ' ');
  const tags = [...outside.matchAll(scoreTag)];
  const cut = unclosedFinalTag.exec(outside);
  // An open tag counts only when nothing follows it but its number: then it is the reply's last word.
  const last = cut ? cut[1]! : tags.at(-1)?.[1];
  if (last === undefined) return unparsed;
  const value = tagValue(last);
  return value === undefined ? unparsed : { score: value, parsed: true };
}
