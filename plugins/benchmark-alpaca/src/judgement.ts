// One AlpacaEval comparison by any JudgeV1: the model's output against the reference output for the same
// instruction, in both orders.
//
// The judge gets ONE doScore call with two items, the two orders of the pair:
//   [0] { query: instruction, answer: model output,     metadata: { pairwise: true, first: model output,     second: reference } }
//   [1] { query: instruction, answer: reference output, metadata: { pairwise: true, first: reference output, second: model output } }
// (a) A scalar judge (reward model, rule judge) ignores the metadata and scores each (query, answer) on its own:
//     the model wins (1) when its score is higher, ties (0.5) when equal, loses (0) otherwise. Its verdict does not
//     depend on the order, so both orders give the same preference.
// (b) A pairwise judge (an LLM judge shown both outputs) reads `first` and `second` and reports, in each
//     JudgeScore, `details.preference`: how much it prefers `first` (= the item's answer) to `second`, in [0, 1]
//     (1 first is better, 0 second is better, 0.5 a tie, anything between a probability). The model's preference
//     is then details.preference of [0] with the model first, 1 - details.preference of [1] with the reference
//     first, and the win is their mean, which cancels a bias for the first (or second) position.
import { PluginError, type JudgeScore, type JudgeV1 } from '@lsp/core';

export interface Judgement {
  /** 'scalar': two independent scores compared; 'pairwise': the judge's preference in both orders. */
  mode: 'scalar' | 'pairwise';
  /** The judge's score of the model's output (item [0]) and of the reference output (item [1]). */
  modelScore: number;
  referenceScore: number;
  /** The model's preference (1 model better, 0 reference better) with the model's output shown first. */
  preferenceModelFirst: number;
  /** The model's preference with the reference output shown first. */
  preferenceReferenceFirst: number;
  /** The mean of the two: what scoreItem returns (0, 0.5 or 1 from a scalar judge). */
  win: number;
  /** Output lengths in characters (Unicode code points, as Python's len counts them). */
  modelLength: number;
  referenceLength: number;
  /** The judge's own details for the two items, when it gave any. */
  judgeDetails?: [Record<string, unknown> | undefined, Record<string, unknown> | undefined];
}

/** Characters as Python's `len` counts them (code points), which AlpacaEval's length term uses. */
export function characterLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The preference of a scalar judge: 1 if the model's score is higher, 0.5 on a tie, 0 otherwise. */
export function scalarPreference(modelScore: number, referenceScore: number): number {
  if (modelScore > referenceScore) return 1;
  return modelScore === referenceScore ? 0.5 : 0;
}

/** details.preference of a judge's score: undefined when absent, else a number in [0, 1]. */
function preferenceOf(judge: JudgeV1, score: JudgeScore, order: string): number | undefined {
  const preference = score.details?.preference;
  if (preference === undefined) return undefined;
  if (typeof preference !== 'number' || !Number.isFinite(preference) || preference < 0 || preference > 1) {
    throw new PluginError(`judge ${judge.name} reported details.preference ${JSON.stringify(preference)} (${order}); a pairwise judge reports a number in [0, 1], how much it prefers metadata.first to metadata.second`);
  }
  return preference;
}

/** Judges the model's output against the reference output for one instruction, in both orders. */
export async function judgePair(
  judge: JudgeV1, instruction: string, output: string, reference: string, signal?: AbortSignal,
): Promise<Judgement> {
  const scores = await judge.doScore([
    { query: instruction, answer: output, metadata: { pairwise: true, first: output, second: reference } },
    { query: instruction, answer: reference, metadata: { pairwise: true, first: reference, second: output } },
  ], signal ? { signal } : {});
  if (!Array.isArray(scores) || scores.length !== 2) {
    throw new PluginError(`judge ${judge.name} returned ${Array.isArray(scores) ? scores.length : 'no'} scores for 2 items; doScore gives one per item, in order`);
  }
  const [modelItem, referenceItem] = scores as [JudgeScore, JudgeScore];
  const modelFirst = preferenceOf(judge, modelItem, 'model output first');
  const referenceFirst = preferenceOf(judge, referenceItem, 'reference output first');
  const lengths = { modelLength: characterLength(output), referenceLength: characterLength(reference) };
  const judgeDetails = modelItem.details || referenceItem.details
    ? { judgeDetails: [modelItem.details, referenceItem.details] as Judgement['judgeDetails'] } : {};
  if (modelFirst !== undefined && referenceFirst !== undefined) {
    const preferenceReferenceFirst = 1 - referenceFirst;
    return {
      mode: 'pairwise', modelScore: modelItem.score, referenceScore: referenceItem.score,
      preferenceModelFirst: modelFirst, preferenceReferenceFirst, win: (modelFirst + preferenceReferenceFirst) / 2,
      ...lengths, ...judgeDetails,
    };
  }
  if (modelFirst !== undefined || referenceFirst !== undefined) {
    throw new PluginError(`judge ${judge.name} reported details.preference for one order of the pair only; a pairwise judge reports it for both items`);
  }
  for (const [score, which] of [[modelItem.score, 'model'], [referenceItem.score, 'reference']] as const) {
    if (typeof score !== 'number' || !Number.isFinite(score)) {
      throw new PluginError(`judge ${judge.name} gave the ${which} output the score ${typeof score === 'number' ? score : JSON.stringify(score)}; a judge's score is a finite number`);
    }
  }
  const win = scalarPreference(modelItem.score, referenceItem.score);
  return {
    mode: 'scalar', modelScore: modelItem.score, referenceScore: referenceItem.score,
    preferenceModelFirst: win, preferenceReferenceFirst: win, win, ...lengths, ...judgeDetails,
  };
}
