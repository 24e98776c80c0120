// `bun run diagnose:noise`: the gradient noise scale of the GRPO Solver loss on the built-in world (docs/results.md
// section 5). K independent batches of Q generated training tasks x G answers at the play temperature give K
// gradients of the loop's own loss; with their mean squared norm S and mean pairwise dot product X (an unbiased
// estimate of |true gradient|^2), the noise scale B = Q (S - X) / X is the batch, in queries, at which the noise in
// one step's gradient equals its signal. A step of far fewer queries moves mostly at random. A script, not a test.
//
// Settings from the environment: MODEL (default the built-in model), K (8), Q (32), G (8), LEVELS (1,2),
// OP (one operation only, e.g. upper), FIXED=1 (the same Q tasks in every batch), BETA (0), SEED (123).
import { createWasmDevice } from '@lsp/backend-wasm';
import { createGrpoGame } from '@lsp/game-lsp';
import { loadModel } from '@lsp/model';
import { loadTokenizer } from '@lsp/tokenizer-wasm';
import { builtinModelDirectory, createWorldJudge, generateTrainingTasks } from '@lsp/world';
import { chatPromptIds } from '../src/selfplay/self-play-loop';

const environment = process.env;
const directory = environment.MODEL ?? builtinModelDirectory();
const [K, Q, G] = [Number(environment.K ?? 8), Number(environment.Q ?? 32), Number(environment.G ?? 8)];
const levels = (environment.LEVELS ?? '1,2').split(',').map(Number);
const operation = environment.OP;
const maxNewTokens = 32;

const device = await createWasmDevice();
const tokenizer = await loadTokenizer(directory);
const model = await loadModel(directory, { device, tokenizer });
const game = await createGrpoGame({ klCoefficient: Number(environment.BETA ?? 0), klEstimator: 'k3', maxNewTokens });
const judge = createWorldJudge();
const tasks = generateTrainingTasks({ seed: Number(environment.SEED ?? 123), count: operation ? 40 * K * Q : K * Q, levels })
  .map((task) => task.canonical)
  .filter((task) => !operation || task.split(' ')[0] === operation);
if (tasks.length < K * Q) throw new Error(`only ${tasks.length} tasks of operation ${operation}; lower K or Q`);

const gradients: Float64Array[] = [];
let zeroVarianceGroups = 0;
let rewardSum = 0;
for (let k = 0; k < K; k++) {
  const queries = environment.FIXED ? tasks.slice(0, Q) : tasks.slice(k * Q, (k + 1) * Q);
  const prompts = queries.map((query) => chatPromptIds(tokenizer, [{ role: 'user', content: query }]));
  const answers = await model.generate(prompts.flatMap((promptIds) => Array.from({ length: G }, () => ({ promptIds }))), { maxNewTokens, temperature: 1, seed: 1000 + k });
  const scores = await judge.doScore(queries.flatMap((query, i) => Array.from({ length: G }, (_, j) => ({ query, answer: answers[i * G + j]!.text.trim() }))), {});
  const rewards = queries.map((_, i) => Array.from({ length: G }, (_, j) => scores[i * G + j]!.score));
  rewardSum += rewards.flat().reduce((a, b) => a + b, 0);
  const advantages = game.computeAdvantages({ rewards });
  zeroVarianceGroups += advantages.statistics.zeroVarianceGroups ?? 0;
  const sequences = answers.map((answer, index) => ({ promptIds: prompts[Math.floor(index / G)]!, completionIds: answer.completionIds }));
  const advantageOf = advantages.solver.flat();
  const reference = await model.tokenLogProbs(sequences);
  await model.accumulateGradients(sequences, (logProbs) => game.policyLoss('solver', sequences.map((_, i) => ({
    logProbs: logProbs[i]!, referenceLogProbs: reference[i]!, advantage: advantageOf[i]!,
  })), { denominator: sequences.length }).gradients);
  const parts = await Promise.all(model.trainableParameters().map(async (parameter) => (await device.read(parameter.gradient!)) as Float32Array));
  const flat = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    flat.set(part, at);
    at += part.length;
  }
  gradients.push(flat);
  model.discardGradients();
  process.stderr.write(`batch ${k + 1}/${K}\n`);
}

const dot = (a: Float64Array, b: Float64Array) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
};
let squared = 0;
let cross = 0;
let cosine = 0;
let pairs = 0;
for (let a = 0; a < K; a++) {
  squared += dot(gradients[a]!, gradients[a]!) / K;
  for (let b = a + 1; b < K; b++) {
    const product = dot(gradients[a]!, gradients[b]!);
    cross += product;
    cosine += product / Math.sqrt(dot(gradients[a]!, gradients[a]!) * dot(gradients[b]!, gradients[b]!));
    pairs++;
  }
}
cross /= pairs;
cosine /= pairs;
console.log(JSON.stringify({
  model: directory, K, Q, G, levels, ...(operation ? { operation } : {}), fixedTasks: Boolean(environment.FIXED),
  reward: rewardSum / (K * Q * G), zeroVarianceFraction: zeroVarianceGroups / (K * Q), meanPairCosine: cosine,
  noiseScaleQueries: cross > 0 ? (Q * (squared - cross)) / cross : null,
}));
model.dispose();
tokenizer.dispose();
device.dispose();
