import { estimateTokens, type ChatMessage } from '@aip/llm';
import type { Turn } from '@aip/tasks';

/**
 * Assembles the prompt: profile tags as a system message, then as much recent history as fits
 * the budget (newest kept), then the request's own messages.
 */
export function assemblePrompt(input: { profile: Record<string, string>; history: Turn[]; messages: ChatMessage[]; historyBudget: number }): ChatMessage[] {
  const prompt: ChatMessage[] = [];
  const tags = Object.entries(input.profile);
  if (tags.length > 0) {
    prompt.push({ role: 'system', content: `What we know about the user: ${tags.map(([key, value]) => `${key}: ${value}`).join('; ')}.` });
  }
  const kept: Turn[] = [];
  let used = 0;
  for (const turn of [...input.history].reverse()) {
    const cost = estimateTokens([turn]);
    if (used + cost > input.historyBudget) break;
    kept.unshift(turn);
    used += cost;
  }
  return [...prompt, ...kept, ...input.messages];
}
