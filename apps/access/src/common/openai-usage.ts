import type { Task } from '@aip/tasks';

type Usage = NonNullable<Task['usage']>;

/**
 * Usage as OpenAI spells it (`prompt_tokens`...), with the provider's details when it gave them:
 * one casing on every HTTP answer (chat, tasks, their events).
 */
export function openAiUsage(usage: Usage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.totalTokens,
    ...(usage.cachedTokens !== undefined ? { prompt_tokens_details: { cached_tokens: usage.cachedTokens } } : {}),
    ...(usage.reasoningTokens !== undefined ? { completion_tokens_details: { reasoning_tokens: usage.reasoningTokens } } : {}),
  };
}

/** The usage of several answers (`n`) as one: each figure summed, a detail only when every answer has it. */
export function totalUsage(usages: readonly Usage[]): Usage {
  const sum = (of: (usage: Usage) => number | undefined) => (usages.every((usage) => of(usage) !== undefined) ? usages.reduce((total, usage) => total + (of(usage) ?? 0), 0) : undefined);
  const cachedTokens = sum((usage) => usage.cachedTokens);
  const reasoningTokens = sum((usage) => usage.reasoningTokens);
  return {
    promptTokens: sum((usage) => usage.promptTokens)!,
    completionTokens: sum((usage) => usage.completionTokens)!,
    totalTokens: sum((usage) => usage.totalTokens)!,
    ...(cachedTokens !== undefined ? { cachedTokens } : {}),
    ...(reasoningTokens !== undefined ? { reasoningTokens } : {}),
  };
}
