// Input checks shared by the wasm implementation and the TypeScript reference, so both refuse the same inputs
// with the same one-line error before any arithmetic runs.
import {
  InvalidInputError, type GroupAdvantageOptions, type KlEstimator, type PolicyLossOptions, type TokenLogProbs,
} from '@lsp/core';

export const klEstimators: readonly KlEstimator[] = ['k1', 'k2', 'k3'];

function fail(message: string, hint?: string): never {
  throw new InvalidInputError(`advantage: ${message}`, hint ? { hint } : {});
}

function checkFinite(value: number, where: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(`${where} is ${String(value)}, not a finite number`);
}

/** Groups must be non-empty arrays of finite numbers: an empty group has no mean. */
export function checkGroups(groups: readonly (readonly number[])[], label = 'group'): void {
  if (!Array.isArray(groups)) fail(`groups must be an array of arrays of numbers`);
  groups.forEach((group, index) => {
    if (!Array.isArray(group) || group.length === 0) fail(`${label} ${index} is empty`, 'every query needs at least one answer');
    group.forEach((value, position) => checkFinite(value, `${label} ${index} value ${position}`));
  });
}

export function checkValues(values: readonly number[], label: string): void {
  values.forEach((value, index) => checkFinite(value, `${label}[${index}]`));
}

export function checkEstimator(estimator: KlEstimator): void {
  if (!klEstimators.includes(estimator)) fail(`unknown KL estimator "${String(estimator)}"`, 'use k1, k2 or k3');
}

export function checkTokens(tokens: TokenLogProbs, label: string): void {
  if (tokens.logProbs.length !== tokens.referenceLogProbs.length) {
    fail(`${label} has ${tokens.logProbs.length} log-probabilities but ${tokens.referenceLogProbs.length} reference ones`);
  }
  for (let index = 0; index < tokens.logProbs.length; index++) {
    checkFinite(tokens.logProbs[index]!, `${label} log-probability ${index}`);
    checkFinite(tokens.referenceLogProbs[index]!, `${label} reference log-probability ${index}`);
  }
}

export function checkGroupAdvantageOptions(options: GroupAdvantageOptions): void {
  if (options.normalization !== 'mean-centred' && options.normalization !== 'standard-deviation') {
    fail(`unknown advantage normalization "${String(options.normalization)}"`, 'use mean-centred or standard-deviation');
  }
  if (options.epsilon !== undefined && (!(options.epsilon >= 0) || !Number.isFinite(options.epsilon))) {
    fail(`epsilon must be a finite number >= 0, got ${options.epsilon}`);
  }
}

export function checkPolicyLossOptions(options: PolicyLossOptions): void {
  checkEstimator(options.klEstimator);
  if (options.klPlacement !== 'loss' && options.klPlacement !== 'reward') {
    fail(`unknown KL placement "${String(options.klPlacement)}"`, 'use loss or reward');
  }
  if (options.aggregation !== 'sequence-mean' && options.aggregation !== 'token-mean') {
    fail(`unknown loss aggregation "${String(options.aggregation)}"`, 'use sequence-mean or token-mean');
  }
  checkFinite(options.klCoefficient, 'the KL coefficient');
  if (options.scale !== undefined) checkFinite(options.scale, 'the loss scale');
  if (options.denominator !== undefined && !(options.denominator > 0 && Number.isFinite(options.denominator))) {
    fail(`the loss denominator must be a positive number, got ${options.denominator}`);
  }
}

/** The default epsilon added to a group's standard deviation before dividing. */
export const defaultEpsilon = 1e-6;

export function checkQualityValues(values: readonly number[], qualityValues: readonly number[] | undefined): void {
  checkValues(values, 'values');
  if (qualityValues === undefined) return;
  checkValues(qualityValues, 'quality values');
  if (qualityValues.length !== values.length) fail(`${values.length} values but ${qualityValues.length} quality values`);
}
