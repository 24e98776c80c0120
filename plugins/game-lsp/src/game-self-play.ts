// The self-play games: 'lsp' (Challenger reward -V_i + VQ_i, Solver reward R + RQ) and 'lsp-zero' (the zero-sum
// game, Challenger advantage Vbar - V_i). One model plays both roles; the runner samples, judges and trains.
import {
  InvalidInputError, type AdvantageMathV1, type ChatMessage, type GameFactoryV1, type GameSettingsV1, type GameV1,
  type IterationRewards, type PolicySequence, type Role,
} from '@lsp/core';
import { createAdvantageMath } from '@lsp/advantage-wasm';
import { worldChallengerMessages } from '@lsp/world';
import { computeGameAdvantages } from './game-advantages';
import { commonSettings, lspOptionsSchema, lspZeroOptionsSchema, parseOptions, type LspOptions } from './game-options';
import { chatChallengerMessages, qualityJudgeMessages } from './game-prompts';

export function solverMessages(query: string): ChatMessage[] {
  return [{ role: 'user', content: query }];
}

/** One role's loss through the game's settings; shared by every game. */
export function rolePolicyLoss(
  game: string, math: AdvantageMathV1, settings: GameSettingsV1, roles: readonly Role[], role: Role,
  sequences: readonly PolicySequence[], options: { denominator?: number } = {},
) {
  if (!roles.includes(role)) throw new InvalidInputError(`game ${game} has no ${role} role`);
  return math.policyLoss(sequences, {
    klEstimator: settings.klEstimator,
    klCoefficient: settings.klCoefficient,
    klPlacement: settings.klPlacement,
    aggregation: settings.aggregation,
    scale: role === 'challenger' ? settings.challengerWeight : 1,
    ...(options.denominator === undefined ? {} : { denominator: options.denominator }),
  });
}

export async function createSelfPlayGame(variant: 'lsp' | 'lsp-zero', rawOptions: Record<string, unknown> = {}): Promise<GameV1> {
  const options: LspOptions =
    variant === 'lsp' ? parseOptions(variant, lspOptionsSchema, rawOptions) : parseOptions(variant, lspZeroOptionsSchema, rawOptions);
  const math = await createAdvantageMath(options.advantageImplementation);
  const usesQualityReward = variant === 'lsp';
  const settings: GameSettingsV1 = {
    ...commonSettings(options, options.challengerWeight),
    ...(usesQualityReward
      ? { qualitySource: options.qualitySource ?? (options.challengerPrompt === 'world' ? 'judge' : 'reference-model') }
      : {}),
  };
  const roles: readonly Role[] = ['challenger', 'solver'];
  return {
    specificationVersion: 'v1',
    name: variant,
    roles,
    usesQualityReward,
    settings,
    challengerPrompt({ index }) {
      if (options.challengerPrompt === 'world') return worldChallengerMessages();
      return chatChallengerMessages(options.taskTypes[index % options.taskTypes.length]!);
    },
    solverPrompt: solverMessages,
    ...(usesQualityReward ? { qualityJudgePrompt: qualityJudgeMessages } : {}),
    computeAdvantages: (rewards: IterationRewards) => computeGameAdvantages(math, settings, variant, rewards),
    policyLoss: (role, sequences, lossOptions) => rolePolicyLoss(variant, math, settings, roles, role, sequences, lossOptions),
  };
}

export const lspGameFactory: GameFactoryV1 = {
  specificationVersion: 'v1',
  name: 'lsp',
  create: (options) => createSelfPlayGame('lsp', options),
};

export const lspZeroGameFactory: GameFactoryV1 = {
  specificationVersion: 'v1',
  name: 'lsp-zero',
  create: (options) => createSelfPlayGame('lsp-zero', options),
};
