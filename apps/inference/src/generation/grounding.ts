import type { ChatMessage, ChatModelPort, Passage } from '@aip/llm';
import type { Turn } from '@aip/tasks';

/** A passage retrieved for a question, with what a citation needs. */
export interface GroundingPassage {
  readonly text: string;
  readonly score: number;
  readonly source: { readonly kbId: string; readonly docId: string; readonly version: string; readonly position: number; readonly title?: string };
}

/** What the worker needs of the knowledge base: passages for one question, scoped to a tenant. */
export interface KnowledgeSearch {
  /** `kbIds` absent: every knowledge base of the tenant. */
  search(request: { tenantId: string; kbIds?: readonly string[]; query: string; limit: number }): Promise<GroundingPassage[]>;
}

export const KNOWLEDGE = Symbol('KNOWLEDGE');

export interface Grounding {
  readonly passages: Passage[];
  /** For the task result and the response's `sources` extension. */
  readonly sources: { kbId: string; docId: string; version: string; position: number; title?: string; score: number }[];
}

export const NO_GROUNDING: Grounding = { passages: [], sources: [] };

export function lastUserTurn(messages: readonly { role: string; content: string }[]): string | undefined {
  return [...messages].reverse().find((message) => message.role === 'user')?.content;
}

/**
 * A follow-up ("and how much is it there?") is a poor search query on its own. With a language
 * model in the chain and history to draw on, the model rewrites it into a standalone question;
 * the retrieval-only responder (or any failure) keeps the user's words.
 */
export async function searchQuery(input: {
  question: string;
  history: readonly Turn[];
  model?: ChatModelPort;
  maxTokens?: number;
  signal?: AbortSignal;
}): Promise<string> {
  const { question, history, model } = input;
  if (!model || model.model === 'extractive' || history.length === 0) return question;
  const recent = history.slice(-6).map((turn) => `${turn.role}: ${turn.content.slice(0, 500)}`).join('\n');
  const messages: ChatMessage[] = [
    {
      role: 'system',
      content: 'Rewrite the last user message as one short standalone search query, using the conversation for missing context. Reply with the query only.',
    },
    { role: 'user', content: `Conversation:\n${recent}\n\nLast user message: ${question}` },
  ];
  try {
    let text = '';
    for await (const chunk of model.stream({ messages, maxTokens: input.maxTokens ?? 48, temperature: 0, ...(input.signal ? { signal: input.signal } : {}) })) {
      if (chunk.type === 'delta') text += chunk.text;
    }
    const query = text.trim().replace(/^["']|["']$/g, '');
    return query.length > 0 && query.length <= 500 ? query : question;
  } catch {
    return question;
  }
}

/** Passages as the chat model port takes them, and the sources the client is shown. */
export function toGrounding(found: readonly GroundingPassage[]): Grounding {
  return {
    passages: found.map((passage) => ({ text: passage.text, source: { docId: citationOf(passage.source), version: passage.source.version, position: passage.source.position } })),
    sources: found.map(({ score, source }) => ({ ...source, score: Math.round(score * 10_000) / 10_000 })),
  };
}

/** How an answer names a document: its title and id, or just one of them when they are the same. */
function citationOf(source: GroundingPassage['source']): string {
  return source.title && source.title !== source.docId ? `${source.title} (${source.docId})` : source.docId;
}

/**
 * The sources an answer really used: the passages the model says it quoted (`cited`, indexes into
 * the passages), else those the text cites as `[n]` — never a passage it ignored (an answer that
 * said none of the passages match used to list them all as its sources).
 */
export function usedSources(grounding: Grounding, text: string, cited?: readonly number[]): Grounding['sources'] {
  const used = new Set(cited ?? [...text.matchAll(/\[(\d{1,3})\]/g)].map((match) => Number(match[1]) - 1));
  return grounding.sources.filter((_, index) => used.has(index));
}
