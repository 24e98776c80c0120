// The games played in the built-in world, judge included: the quality self-reward (validity) is what keeps the
// Challenger honest under LSP, while LSP-Zero pays most for text that is not a task at all.
import type { GameV1 } from '@lsp/core';
import { createWorldJudge, parseTask } from '@lsp/world';
import { describe, expect, test } from 'bun:test';
import { createSelfPlayGame } from './game-self-play';

/** A scripted Solver: right on easy tasks, right on half the answers to a harder one, hopeless on nonsense. */
const queries = ['reverse abc', 'mul 47 count hello', 'please do something hard'];
const answers = [
  ['cba', 'cba', 'cba', 'cba'],
  ['235', '235', '230', '2350'],
  ['?', 'hard', 'something', ''],
];

async function play(game: GameV1) {
  const judge = createWorldJudge();
  const scores = await Promise.all(
    queries.map((query, i) => judge.doScore(answers[i]!.map((answer) => ({ query, answer })), {})),
  );
  const rewards = scores.map((row) => row.map((score) => score.score));
  const qualityRewards = scores.map((row) => row.map((score) => score.quality!));
  return { rewards, result: game.computeAdvantages(game.usesQualityReward ? { rewards, qualityRewards } : { rewards }) };
}

describe('self-play in the world', () => {
  test('the judge scores the scripted answers as intended', async () => {
    const { rewards } = await play(await createSelfPlayGame('lsp-zero'));
    expect(rewards).toEqual([[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0]]);
    expect(parseTask(queries[1]!).valid).toBe(true);
    expect(parseTask(queries[2]!).valid).toBe(false);
  });

  test('lsp-zero rewards the invalid query most: the drift into nonsense', async () => {
    const { result } = await play(await createSelfPlayGame('lsp-zero'));
    const [easy, hard, invalid] = result.challenger as [number, number, number];
    expect(invalid).toBeGreaterThan(hard);
    expect(hard).toBeGreaterThan(easy);
  });

  test('lsp ranks the hard valid query first and the invalid one last', async () => {
    const { result } = await play(await createSelfPlayGame('lsp'));
    const [easy, hard, invalid] = result.challenger as [number, number, number];
    expect(hard).toBeGreaterThan(easy);
    expect(easy).toBeGreaterThan(invalid);
    // Only the half-solved query teaches the Solver anything: right answers up, wrong ones down.
    expect(result.solver[1]!.map(Math.sign)).toEqual([1, 1, -1, -1]);
    expect(result.statistics.zeroVarianceGroups).toBe(2);
  });
});
