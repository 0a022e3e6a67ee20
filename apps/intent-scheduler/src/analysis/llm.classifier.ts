import type { BaseLanguageModelInput } from '@langchain/core/language_models/base';
import { z } from 'zod';
import type { Catalogue } from '@aip/contracts';
import type { Classification, IntentClassifier } from './classifier.port.ts';

/** What the chat model must answer (structured output); `none` when no intent fits. */
export function classificationSchema(catalogue: Catalogue) {
  const ids = catalogue.intents.filter((intent) => intent.trigger === 'user_turns').map((intent) => intent.id);
  return z.object({
    intent: z.enum(['none', ...ids] as [string, ...string[]]).describe('the intent of the latest relevant user message, or "none"'),
    confidence: z.number().min(0).max(1).describe('how sure you are, 0..1'),
    turn: z.number().int().min(0).describe('index of the user message that shows the intent (0 = newest)'),
    slots: z.array(z.object({ name: z.string(), value: z.string() })).describe('slot values found in the user messages'),
  });
}
export type ClassificationSchema = ReturnType<typeof classificationSchema>;
export type LlmClassification = z.infer<ClassificationSchema>;

/** A model bound to the schema: `chatModel.withStructuredOutput(schema)` (or a fake in tests). */
export interface StructuredModel {
  invoke(input: BaseLanguageModelInput, options?: { signal?: AbortSignal }): Promise<Record<string, unknown>>;
}

export function classificationPrompt(texts: readonly string[], catalogue: Catalogue): { role: 'system' | 'user'; content: string }[] {
  const intents = catalogue.intents
    .filter((intent) => intent.trigger === 'user_turns')
    .map((intent) => {
      const slots = intent.slots.map((slot) => slot.name).join(', ');
      return `- ${intent.id}: ${intent.description}${slots ? ` Slots: ${slots}.` : ''} Examples: ${intent.examples.map((e) => JSON.stringify(e)).join('; ')}`;
    })
    .join('\n');
  const messages = texts.map((text, i) => `[${i}] ${JSON.stringify(text)}`).join('\n');
  return [
    {
      role: 'system',
      content:
        'You classify the intent of a user in a chat so an assistant can follow up proactively. ' +
        'Choose exactly one intent from the list, or "none" when none clearly fits. Extract the named slots ' +
        `from the user's words only; never invent values.\nIntents:\n${intents}`,
    },
    { role: 'user', content: `User messages, newest first:\n${messages}` },
  ];
}

/**
 * Structured-output classification by a chat model (when one is configured). The answer is
 * validated against the schema; an unknown intent, a low confidence or an invalid answer count as
 * "no intent", never as an error that stops the tick.
 */
export class LlmClassifier implements IntentClassifier {
  readonly name = 'llm';
  private bound: { catalogue: Catalogue; model: StructuredModel; schema: ClassificationSchema } | undefined;

  constructor(
    private readonly bind: (schema: ClassificationSchema) => StructuredModel,
    private readonly options: { timeoutMs?: number } = {},
  ) {}

  async classify(texts: readonly string[], catalogue: Catalogue): Promise<Classification | undefined> {
    const candidates = texts.slice(0, catalogue.userTurns);
    if (candidates.length === 0) return undefined;
    if (this.bound?.catalogue !== catalogue) {
      const schema = classificationSchema(catalogue);
      this.bound = { catalogue, schema, model: this.bind(schema) };
    }
    const { model, schema } = this.bound;
    const raw = await model.invoke(classificationPrompt(candidates, catalogue), { signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    const parsed = schema.safeParse(raw);
    if (!parsed.success || parsed.data.intent === 'none') return undefined;
    const { intent, confidence, turn, slots } = parsed.data;
    const threshold = catalogue.intents.find((i) => i.id === intent)?.threshold ?? catalogue.threshold;
    if (confidence < threshold) return undefined;
    const known = new Set(catalogue.intents.find((i) => i.id === intent)?.slots.map((slot) => slot.name));
    // A value the user never wrote is the model's invention: drop it and let the rules try.
    const said = (value: string) => candidates.some((text) => text.toLowerCase().includes(value.toLowerCase()));
    const found = Object.fromEntries(slots.filter((slot) => known.has(slot.name) && slot.value.trim() && said(slot.value.trim())).map((slot) => [slot.name, slot.value.trim()]));
    return { intent, score: confidence, turn: Math.min(turn, candidates.length - 1), slots: found };
  }
}
