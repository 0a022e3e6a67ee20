import { createHash } from 'node:crypto';
import { promptTokens } from './answers.ts';
import type { ChatCompletionMessage } from './types.ts';

/**
 * A simulated prefix (KV) cache, as a serving engine keeps one per GPU: the prompts this server
 * answered recently, by the hash of each of their leading message runs. A new prompt whose first
 * messages are a prompt seen before finds those tokens cached and pays prefill only for the rest —
 * so a multi-turn conversation is cheap on the server that served its last turn and dear anywhere
 * else. Bounded: the oldest prompts are forgotten first.
 */
export class PrefixCache {
  private readonly seen = new Set<string>();
  private readonly limit: number;

  constructor(limit = 10_000) {
    this.limit = limit;
  }

  /** Prompt tokens of the longest leading run of `messages` (not all of them) that is cached. */
  cachedTokens(messages: readonly ChatCompletionMessage[]): number {
    const hashes = runHashes(messages);
    for (let length = messages.length - 1; length > 0; length--) {
      if (this.seen.has(hashes[length - 1] ?? '')) return promptTokens({ messages: messages.slice(0, length) });
    }
    return 0;
  }

  /** Keeps every leading run of `messages` (a prompt and the answer generated for it: all of it was computed, so all is cached). */
  remember(messages: readonly ChatCompletionMessage[]): void {
    for (const hash of runHashes(messages)) {
      this.seen.delete(hash); // re-inserted: most recently used last
      this.seen.add(hash);
    }
    for (const oldest of this.seen) {
      if (this.seen.size <= this.limit) break;
      this.seen.delete(oldest);
    }
  }
}

/** The hash of messages[0..i] for every i, each chained from the one before. */
function runHashes(messages: readonly ChatCompletionMessage[]): string[] {
  const hashes: string[] = [];
  let previous = '';
  for (const message of messages) {
    previous = createHash('sha1').update(previous).update(JSON.stringify({ role: message.role, content: message.content, tool_calls: message.tool_calls, tool_call_id: message.tool_call_id })).digest('hex');
    hashes.push(previous);
  }
  return hashes;
}
