// `lsp new judge <name>` (and `lsp new plugin <name>`, the same judge tested without self-play): a judge that scores
// an answer 1 when it is non-empty and within a length limit, the simplest rule to replace with one's own.
import type { KindTemplate, TemplateNames } from './plugin-template';

function judgeSource({ name, packageName, factory, pascal }: TemplateNames): string {
  return `// ${packageName}: an LSP plugin contributing the "${name}" judge.
import type { JudgeFactoryV1, JudgeItem, JudgeScore, JudgeV1, PluginV1 } from '@lsp/core';

export interface ${pascal}Options {
  /** Answers longer than this many characters score 0. */
  maxCharacters?: number;
}

/** Scores 1 when the answer is non-empty and within the length limit, else 0. Replace with your own rule. */
export function create${pascal}Judge(options: ${pascal}Options = {}): JudgeV1 {
  const maxCharacters = options.maxCharacters ?? 2000;
  return {
    specificationVersion: 'v1',
    name: '${name}',
    async doScore(items: readonly JudgeItem[]): Promise<JudgeScore[]> {
      return items.map((item) => {
        const answer = item.answer.trim();
        const ok = answer.length > 0 && answer.length <= maxCharacters;
        return { score: ok ? 1 : 0, details: { characters: answer.length } };
      });
    },
  };
}

const judgeFactory: JudgeFactoryV1 = {
  specificationVersion: 'v1',
  name: '${name}',
  create: (options) => create${pascal}Judge(options as ${pascal}Options),
};

/** The plugin factory: list \`${factory}()\` in lsp.config.ts, or pass \`--plugin ${name}\`. */
export default function ${factory}(): PluginV1 {
  return {
    specificationVersion: 'v1',
    name: '${packageName}',
    version: '0.1.0',
    judges: [judgeFactory],
  };
}
`;
}

function unitTests({ name, packageName, factory, pascal }: TemplateNames): string {
  return `  test('is a v1 plugin with one judge', () => {
    const plugin = ${factory}();
    expect(plugin.specificationVersion).toBe('v1');
    expect(plugin.name).toBe('${packageName}');
    expect(plugin.judges?.map((judge) => judge.name)).toEqual(['${name}']);
  });

  test('scores non-empty answers within the limit as 1 and others as 0', async () => {
    const judge = create${pascal}Judge({ maxCharacters: 5 });
    const scores = await judge.doScore(
      [
        { query: 'q', answer: 'hello' },
        { query: 'q', answer: '   ' },
        { query: 'q', answer: 'too long' },
      ],
      {},
    );
    expect(scores.map((entry) => entry.score)).toEqual([1, 0, 0]);
  });
`;
}

const readme = ({ name, pascal }: TemplateNames) => `## The judge

\`${name}\` scores an answer 1 when it is non-empty and at most \`maxCharacters\` characters long (option, default
2000), else 0. Replace the rule in \`create${pascal}Judge\` (src/index.ts) with yours: a judge receives a batch of
\`{ query, answer, metadata }\` and returns one \`{ score, quality?, details? }\` per item, in order. \`quality\`, when
you return it, is the quality self-reward RQ that \`lsp\` adds to the Solver's and Challenger's rewards; \`details\`
are kept in the run's samples.`;

/** `lsp new plugin`: the judge with its unit tests only (no self-play, no testing kit). */
export function pluginTemplate(names: TemplateNames): KindTemplate {
  return {
    describes: `the "${names.name}" judge`,
    lspDependencies: [],
    lspDevDependencies: [],
    source: judgeSource(names),
    test: `// Tests of the ${names.name} plugin: its shape, and its judge on answers that should pass and fail.
import { describe, expect, test } from 'bun:test';
import ${names.factory}, { create${names.pascal}Judge } from './index';

describe('${names.packageName}', () => {
${unitTests(names)}});
`,
    readme: readme(names),
    configField: `judge: '${names.name}'`,
    commandLine: `bun lsp run --plugin ${names.name} --judge ${names.name}`,
  };
}

/** `lsp new judge`: the same judge, also played for two self-play iterations through @lsp/testing. */
export function judgeTemplate(names: TemplateNames): KindTemplate {
  const { name, packageName, factory } = names;
  return {
    ...pluginTemplate(names),
    lspDevDependencies: ['@lsp/testing'],
    test: `// Tests of the ${name} judge: the plugin's shape, its scores on answers that should pass and fail, and two
// self-play iterations on the built-in world's model judged by it (@lsp/testing plays them through the runner).
import { playGame } from '@lsp/testing';
import { describe, expect, test } from 'bun:test';
import ${factory}, { create${names.pascal}Judge } from './index';

describe('${packageName}', () => {
${unitTests(names)}
  test('judges two iterations of self-play: every recorded answer got the score the rule gives it', async () => {
    const { metrics, samples } = await playGame({ plugins: [${factory}()], judge: '${name}', game: 'lsp-zero', iterations: 2 });
    expect(metrics.map((m) => m.iteration)).toEqual([1, 2]);
    const answers = samples.flatMap((sample) => sample.answers);
    expect(answers.length).toBeGreaterThan(0);
    for (const answer of answers) {
      const text = answer.text.trim();
      expect(answer.reward).toBe(text.length > 0 && text.length <= 2000 ? 1 : 0);
    }
  });
});
`,
  };
}
