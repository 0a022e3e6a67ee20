import type { ChatChunk, ChatModelPort, ChatStreamRequest, Passage, PassageSource } from './chat-model.port.ts';
import { countWords } from './token-estimate.ts';

export const EXTRACTIVE_MODEL = 'extractive';

export interface ExtractiveOptions {
  /** Provider name (default `extractive`). */
  name?: string;
  /** Most sentences quoted in one answer (default 3). */
  maxSentences?: number;
}

interface Sentence {
  text: string;
  terms: Set<string>;
  passage: number;
  order: number;
}

const STOPWORDS = new Set(
  (
    'a an and are as at be by can do does for from has have how i if in is it its me my of on or our so that the their them there ' +
    'these they this to was we were what when where which who why will with you your about into than then also not no'
  ).split(' '),
);
const WIDE = /[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]/u;

/** Light, deterministic normalisation so "refunds" matches "refund" and "policies" matches "policy". */
function stem(term: string): string {
  if (term.length > 4 && term.endsWith('ies')) return `${term.slice(0, -3)}y`;
  if (term.length > 3 && term.endsWith('s') && !term.endsWith('ss')) return term.slice(0, -1);
  return term;
}

/** Words for Latin-like scripts; character bigrams for CJK, which has no spaces between words. */
export function extractTerms(text: string): Set<string> {
  const terms = new Set<string>();
  for (const match of text.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) {
    const word = match[0];
    if (WIDE.test(word)) {
      const chars = [...word];
      if (chars.length === 1) terms.add(word);
      for (let i = 0; i + 1 < chars.length; i++) terms.add(`${chars[i]}${chars[i + 1]}`);
    } else if (word.length > 1 && !STOPWORDS.has(word)) {
      terms.add(stem(word));
    }
  }
  return terms;
}

function splitSentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|(?<=[。！？])|\n+/u)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length > 0);
}

function describeSource(source: PassageSource): string {
  const details = [source.version !== undefined ? `version ${source.version}` : '', source.position !== undefined ? `position ${source.position}` : ''].filter(Boolean);
  return details.length > 0 ? `${source.docId} (${details.join(', ')})` : source.docId;
}

function sourceKey(source: PassageSource): string {
  return `${source.docId}\u0000${source.version ?? ''}\u0000${source.position ?? ''}`;
}

/**
 * The embedded default chat model (`extractive`): no LLM, it answers by quoting the sentences of
 * the given passages that best match the last user message, ranked by IDF-weighted term overlap,
 * and it says so. Deterministic, instant, and honest when it has nothing to quote.
 */
export class ExtractiveResponder implements ChatModelPort {
  readonly name: string;
  readonly model = EXTRACTIVE_MODEL;
  /** It quotes passages: it cannot call tools, follow a response format or honour sampling fields. */
  readonly forwards = false;
  private readonly maxSentences: number;

  constructor(options: ExtractiveOptions = {}) {
    this.name = options.name ?? EXTRACTIVE_MODEL;
    this.maxSentences = options.maxSentences ?? 3;
  }

  /** The full answer text for a request (the stream sends it word by word). */
  answer(request: Pick<ChatStreamRequest, 'messages' | 'passages'>): string {
    return this.compose(request).text;
  }

  /** The answer and the passages it quotes (indexes into `request.passages`). */
  private compose(request: Pick<ChatStreamRequest, 'messages' | 'passages'>): { text: string; cited: number[] } {
    const text = (answer: string, cited: number[] = []) => ({ text: answer, cited });
    const passages = request.passages ?? [];
    const question = [...request.messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    if (passages.length === 0) {
      return text(
        'I have no knowledge to answer from: no passages were found for this question. ' +
        'I am a retrieval-only responder without a language model, so I can only quote documents from the knowledge base. ' +
        'A chat model (any OpenAI-compatible endpoint) can be configured to get generated answers.'
      );
    }
    const picked = this.pick(question, passages);
    if (picked.length === 0) {
      return text(
        `I am a retrieval-only responder without a language model, and none of the ${passages.length} passage${passages.length === 1 ? '' : 's'} I was given match your question, so I cannot answer it. ` +
        'Try rephrasing with words the documents use, or configure a chat model for generated answers.'
      );
    }
    const citations = new Map<string, { number: number; source: PassageSource }>();
    const quotes = picked.map((sentence) => {
      const source = (passages[sentence.passage] as Passage).source;
      const key = sourceKey(source);
      let citation = citations.get(key);
      if (!citation) {
        citation = { number: citations.size + 1, source };
        citations.set(key, citation);
      }
      return `"${sentence.text}" [${citation.number}]`;
    });
    const sources = [...citations.values()].map((citation) => `[${citation.number}] ${describeSource(citation.source)}`);
    return text(
      'I am a retrieval-only responder without a language model, so instead of writing an answer I quote the passages that best match your question:\n\n' +
        `${quotes.join('\n')}\n\nSources: ${sources.join('; ')}`,
      [...new Set(picked.map((sentence) => sentence.passage))].sort((x, y) => x - y),
    );
  }

  private pick(question: string, passages: readonly Passage[]): Sentence[] {
    const query = extractTerms(question);
    if (query.size === 0) return [];
    const sentences: Sentence[] = [];
    const seen = new Set<string>();
    passages.forEach((passage, index) => {
      for (const text of splitSentences(passage.text)) {
        // The same sentence in two chunks (overlapping chunking) is quoted once.
        if (seen.has(text)) continue;
        seen.add(text);
        sentences.push({ text, terms: extractTerms(text), passage: index, order: sentences.length });
      }
    });
    // Rare terms say more about relevance than common ones.
    const idf = new Map<string, number>();
    for (const term of query) {
      const df = sentences.reduce((count, sentence) => count + (sentence.terms.has(term) ? 1 : 0), 0);
      if (df > 0) idf.set(term, Math.log(1 + sentences.length / df));
    }
    const scored = sentences
      .map((sentence) => ({ sentence, score: [...idf].reduce((sum, [term, weight]) => sum + (sentence.terms.has(term) ? weight : 0), 0) }))
      .filter((entry) => entry.score > 0)
      .sort((a, b) => b.score - a.score || a.sentence.order - b.sentence.order);
    const best = scored[0]?.score ?? 0;
    // Weak tail matches (one common word) next to a strong one are noise.
    return scored
      .filter((entry) => entry.score >= best / 2)
      .slice(0, this.maxSentences)
      .map((entry) => entry.sentence);
  }

  async *stream(request: ChatStreamRequest): AsyncGenerator<ChatChunk> {
    const { signal } = request;
    signal?.throwIfAborted();
    const { text, cited } = this.compose(request);
    const words = text.match(/\S+\s*/g) ?? [];
    const limit = Math.max(0, request.maxTokens);
    const sent = words.slice(0, limit);
    for (const word of sent) {
      signal?.throwIfAborted();
      yield { type: 'delta', text: word };
    }
    signal?.throwIfAborted();
    const promptTokens =
      request.messages.reduce((sum, message) => sum + countWords(message.content), 0) +
      (request.passages ?? []).reduce((sum, passage) => sum + countWords(passage.text), 0);
    yield {
      type: 'done',
      usage: { promptTokens, completionTokens: sent.length, totalTokens: promptTokens + sent.length },
      finishReason: sent.length < words.length ? 'length' : 'stop',
      citedPassages: cited,
    };
  }
}
