// The self-play games: 'lsp' (Challenger reward -V_i + VQ_i, Solver reward R + RQ) and 'lsp-zero' (the zero-sum
// game, Challenger advantage Vbar - V_i). One model plays both roles; the runner samples, judges and trains.
import {
  ConfigError, InvalidInputError, type AdvantageMathV1, type ChatMessage, type GameFactoryV1, type GameSettingsV1, type GameV1,
  type IterationRewards, type PolicySequence, type Role,
} from '@lsp/core';
import { createAdvantageMath } from '@lsp/advantage-wasm';
import { worldChallengerMessages } from '@lsp/world';
import { computeGameAdvantages } from './game-advantages';
import { commonSettings, lspOptionsSchema, lspZeroOptionsSchema, parseOptions, type LspOptions } from './game-options';
import { challengerPresets, chatChallengerMessages, qualityJudgeMessages, type ChallengerTask } from './game-prompts';

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

/** A 32-bit hash of whole numbers: the seeded draw of a query's task and template. */
export function mixSeed(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const value of values) {
    h = Math.imul(h ^ (value >>> 0), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

type SelfPlayOptions = Pick<LspOptions, 'challengerPrompt' | 'preset' | 'task' | 'template' | 'seed'>;

/** The Challenger prompt's kind: 'chat' when a preset, task or template is given, unless 'world' is asked for (refused). */
export function challengerPromptKind(game: string, options: SelfPlayOptions): 'world' | 'chat' {
  const chatOnly = (['preset', 'task', 'template'] as const).filter((key) => options[key] !== undefined);
  if (options.challengerPrompt === 'world' && chatOnly.length > 0) {
    throw new ConfigError(`game ${game}: option "${chatOnly[0]}" needs the chat Challenger prompt but challengerPrompt is 'world'`, {
      hint: "drop challengerPrompt or set it to 'chat' in gameOptions",
    });
  }
  return options.challengerPrompt ?? (chatOnly.length > 0 ? 'chat' : 'world');
}

/**
 * The task and template of query `index` of `iteration`: the option's string, or an entry of its list drawn with
 * the run's seed (task and template drawn independently); a preset fills what the options leave unset.
 */
export function challengerTaskFor(options: SelfPlayOptions, iteration: number, index: number): ChallengerTask {
  const preset: ChallengerTask = options.preset ? challengerPresets[options.preset] : challengerPresets['instruction-following'];
  const draw = (value: string | string[] | undefined, fallback: string, stream: number): string => {
    if (value === undefined) return fallback;
    if (typeof value === 'string') return value;
    return value[mixSeed(options.seed, iteration, index, stream) % value.length]!;
  };
  return { task: draw(options.task, preset.task, 1), template: draw(options.template, preset.template, 2) };
}

export async function createSelfPlayGame(variant: 'lsp' | 'lsp-zero', rawOptions: Record<string, unknown> = {}): Promise<GameV1> {
  const options: Omit<LspOptions, 'qualityMaxNewTokens'> & Partial<Pick<LspOptions, 'qualityMaxNewTokens'>> =
    variant === 'lsp' ? parseOptions(variant, lspOptionsSchema, rawOptions) : parseOptions(variant, lspZeroOptionsSchema, rawOptions);
  const promptKind = challengerPromptKind(variant, options);
  const math = await createAdvantageMath(options.advantageImplementation);
  const usesQualityReward = variant === 'lsp';
  const settings: GameSettingsV1 = {
    ...commonSettings(options, options.challengerWeight),
    ...(usesQualityReward
      ? {
        qualitySource: options.qualitySource ?? (promptKind === 'world' ? 'judge' : 'reference-model'),
        qualityMaxNewTokens: options.qualityMaxNewTokens!,
      }
      : {}),
  };
  const roles: readonly Role[] = ['challenger', 'solver'];
  return {
    specificationVersion: 'v1',
    name: variant,
    roles,
    usesQualityReward,
    settings,
    challengerPrompt({ iteration, index }) {
      if (promptKind === 'world') return worldChallengerMessages();
      return chatChallengerMessages(challengerTaskFor(options, iteration, index));
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
