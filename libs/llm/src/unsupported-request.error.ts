/** One thing a request asks of the model that plain text generation cannot do. */
export interface ForwardingNeed {
  /** The OpenAI request field that asks for it (`messages` for tool turns). */
  field: string;
  /** What the model would have to do, e.g. "use tools". */
  does: string;
  /** The capability a provider must declare for it in the routing document, when it is one (`images`). */
  capability?: 'images';
}

/**
 * A request needs a provider that honours OpenAI's request fields (tools, structured output,
 * sampling controls, tool turns) and no provider of its model alias does; callers map it to a 400.
 * It says nothing about the health of a provider: nothing was tried, nothing cools down.
 */
export class UnsupportedRequestError extends Error {
  override readonly name = 'UnsupportedRequestError';
  readonly alias: string;
  readonly needs: readonly ForwardingNeed[];

  constructor(alias: string, needs: readonly ForwardingNeed[]) {
    const capabilities = [...new Set(needs.flatMap((need) => (need.capability ? [`'${need.capability}'`] : [])))];
    super(`The model '${alias}' cannot ${joinNeeds(needs.map((need) => need.does))}${capabilities.length ? ` (it lacks the ${capabilities.join(', ')} capability)` : ''}`);
    this.alias = alias;
    this.needs = needs;
  }

  /** The first field at fault, for the `param` of an OpenAI error body. */
  get param(): string | undefined {
    return this.needs[0]?.field;
  }
}

function joinNeeds(does: readonly string[]): string {
  const unique = [...new Set(does)];
  if (unique.length <= 1) return unique[0] ?? 'serve this request';
  return `${unique.slice(0, -1).join(', ')} or ${unique[unique.length - 1] ?? ''}`;
}
