import type { Task } from '@aip/tasks';

/** Usage as OpenAI spells it (`prompt_tokens`...): one casing on every HTTP answer (chat, tasks, their events). */
export function openAiUsage(usage: NonNullable<Task['usage']>) {
  return { prompt_tokens: usage.promptTokens, completion_tokens: usage.completionTokens, total_tokens: usage.totalTokens };
}
