// What the judge asks and how it reads the answer: the quality rubric of @lsp/game-lsp (0..7), a custom pointwise
// template with {query} and {answer} (a score out of maxScore), and a pairwise comparison of two answers with
// {query}, {first} and {second} (a verdict for the first, the second, or a tie).
import type { ChatMessage } from '@lsp/core';
import { maxQualityScore, parseQualityScore, qualityJudgeMessages } from '@lsp/game-lsp';

/** The default pairwise prompt: which of two answers to one instruction is better, ending in <verdict>…</verdict>. */
export const defaultPairwisePrompt = `Compare two answers to the same user instruction and decide which one serves the user better: more helpful, more correct, clearer. Judge the content only: neither the length of an answer nor the order in which they are shown is a reason to prefer it.

<instruction>
{query}
</instruction>

<answer_1>
{first}
</answer_1>

<answer_2>
{second}
</answer_2>

Say briefly why, then give your verdict as <verdict>1</verdict> if the first answer is better, <verdict>2</verdict> if the second answer is better, or <verdict>tie</verdict> if neither is better.`;

/** Fills {name} placeholders in one pass, so a value that itself holds "{answer}" is left as written. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\{(query|answer|first|second)\}/g, (whole, name: string) => values[name] ?? whole);
}

export function pointwiseMessages(prompt: string, query: string, answer: string): ChatMessage[] {
  if (prompt === 'quality') return qualityJudgeMessages(query, answer);
  return [{ role: 'user', content: fillTemplate(prompt, { query, answer }) }];
}

export function pairwiseMessages(prompt: string, query: string, first: string, second: string): ChatMessage[] {
  return [{ role: 'user', content: fillTemplate(prompt, { query, first, second }) }];
}

export interface PointwiseReading {
  /** In [0, 1]: the points over the scale's maximum (0 when the reply holds no score). */
  score: number;
  points: number;
  parsed: boolean;
}

const scoreTag = /<score>\s*([0-9]+(?:\.[0-9]+)?)\s*<\/score>/gi;

/**
 * A pointwise reply: for 'quality', game-lsp's parser of the rubric's <score>N</score> (a whole number 0..7); for a
 * custom prompt, the last <score>N</score> with N a number from 0 to maxScore. Anything else scores 0, unparsed.
 */
export function readPointwise(prompt: string, reply: string, maxScore: number): PointwiseReading {
  if (prompt === 'quality') {
    const { score, parsed } = parseQualityScore(reply);
    return { score: score / maxQualityScore, points: score, parsed };
  }
  const last = [...reply.matchAll(scoreTag)].at(-1);
  const points = last ? Number(last[1]) : Number.NaN;
  if (!Number.isFinite(points) || points > maxScore) return { score: 0, points: 0, parsed: false };
  return { score: points / maxScore, points, parsed: true };
}

export interface PairwiseReading {
  /** How much the judge prefers the first answer: 1, 0 for the second, 0.5 for a tie or an unreadable reply. */
  preference: number;
  verdict: 'first' | 'second' | 'tie' | undefined;
  parsed: boolean;
}

const verdictTag = /<verdict>\s*(1|2|tie)\s*<\/verdict>/gi;

/** The last <verdict>1|2|tie</verdict> of a pairwise reply. */
export function readPairwise(reply: string): PairwiseReading {
  const last = [...reply.matchAll(verdictTag)].at(-1);
  if (!last) return { preference: 0.5, verdict: undefined, parsed: false };
  const verdict = last[1]!.toLowerCase();
  if (verdict === '1') return { preference: 1, verdict: 'first', parsed: true };
  if (verdict === '2') return { preference: 0, verdict: 'second', parsed: true };
  return { preference: 0.5, verdict: 'tie', parsed: true };
}
