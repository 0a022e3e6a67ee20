import { Counter, Histogram, register } from 'prom-client';

/** What the workers generate, for operators (`/metrics`); one instance per process. */
export const generationMetrics = {
  generations: new Counter({ name: 'aip_inference_generations_total', help: 'Generations by model, provider and outcome', labelNames: ['model', 'provider', 'outcome'], registers: [register] }),
  tokens: new Counter({ name: 'aip_inference_tokens_total', help: 'Tokens by model, provider and kind (prompt, completion)', labelNames: ['model', 'provider', 'kind'], registers: [register] }),
  timeToFirstToken: new Histogram({
    name: 'aip_inference_time_to_first_token_seconds',
    help: 'From the worker taking the request to the first token, by model and provider',
    labelNames: ['model', 'provider'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [register],
  }),
  summaries: new Counter({ name: 'aip_inference_conversation_summaries_total', help: "Conversation summaries written after answers (kept, superseded by a newer one, failed)", labelNames: ['outcome'], registers: [register] }),
};
