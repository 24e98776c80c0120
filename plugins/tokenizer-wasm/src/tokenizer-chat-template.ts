// Chat templates: tokenizer_config.json's chat_template rendered with @huggingface/jinja, with the variables
// transformers' apply_chat_template passes (messages, add_generation_prompt, the special tokens as strings).
import { Template } from '@huggingface/jinja';
import type { ChatMessage } from '@lsp/core';
import { InvalidInputError } from '@lsp/core';

export interface TokenizerConfig {
  chat_template?: string | { name: string; template: string }[];
  bos_token?: unknown;
  eos_token?: unknown;
  unk_token?: unknown;
  pad_token?: unknown;
  [key: string]: unknown;
}

const compiledTemplates = new Map<string, Template>();

function tokenString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { content?: unknown }).content === 'string') {
    return (value as { content: string }).content;
  }
  return undefined;
}

function templateSource(config: TokenizerConfig): string {
  const template = config.chat_template;
  if (typeof template === 'string') return template;
  if (Array.isArray(template)) {
    const entries = template.filter((entry) => typeof entry === 'object' && entry !== null);
    const named = entries.find((entry) => entry.name === 'default') ?? entries[0];
    if (named && typeof named.template === 'string') return named.template;
  }
  throw new InvalidInputError('tokenizer_config.json: chat_template is missing', {
    hint: 'this tokenizer has no chat template; use a chat model folder or format prompts yourself',
  });
}

export function renderChatTemplate(
  config: TokenizerConfig,
  messages: readonly ChatMessage[],
  options: { addGenerationPrompt?: boolean } = {},
): string {
  const source = templateSource(config);
  let template = compiledTemplates.get(source);
  if (!template) {
    try {
      template = new Template(source);
    } catch (error) {
      throw new InvalidInputError(`tokenizer_config.json: chat_template is not a valid template: ${(error as Error).message.split('\n')[0]}`, {
        cause: error, hint: 'fix the template, or use a chat model folder whose template transformers can render',
      });
    }
    compiledTemplates.set(source, template);
  }
  const variables: Record<string, unknown> = {
    messages: messages.map((message) => ({ ...message })),
    add_generation_prompt: options.addGenerationPrompt ?? false,
  };
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token'] as const) {
    const value = tokenString(config[key]);
    if (value !== undefined) variables[key] = value;
  }
  try {
    return template.render(variables);
  } catch (error) {
    // raise_exception() in a template (e.g. "Conversation roles must alternate") is the user's input problem.
    throw new InvalidInputError(`chat template: ${(error as Error).message.split('\n')[0]}`, { cause: error });
  }
}
