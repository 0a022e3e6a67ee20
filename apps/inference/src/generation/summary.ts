import type { ChatMessage, FallbackChain } from '@aip/llm';
import type { Turn } from '@aip/tasks';

const INSTRUCTION =
  'You keep a running summary of a conversation between a user and an assistant. Write the new summary in at most 150 words, in the language of the conversation: what the user said about themselves, what they asked for, what was answered or decided, and what is still open. Write only the summary.';

/**
 * A summary of a conversation's older turns, by the chat model (ADR 0029): the summary so far and
 * the turns that leave the prompt's window become one new summary. The turns are quoted as a
 * transcript in one user message, so nothing in them reads as the platform's instruction.
 */
export async function summarise(model: Pick<FallbackChain, 'stream'>, input: { previous?: string | undefined; turns: readonly Turn[]; maxTokens: number; signal: AbortSignal }): Promise<string> {
  const transcript = input.turns.map((turn) => `${turn.role}: ${turn.content}`).join('\n');
  const messages: ChatMessage[] = [
    { role: 'system', content: INSTRUCTION },
    { role: 'user', content: `${input.previous ? `Summary so far:\n${input.previous}\n\n` : ''}Messages to add to it:\n${transcript}` },
  ];
  let text = '';
  for await (const chunk of model.stream({ messages, maxTokens: input.maxTokens, temperature: 0, signal: input.signal })) {
    if (chunk.type === 'delta') text += chunk.text;
  }
  return text.trim();
}
