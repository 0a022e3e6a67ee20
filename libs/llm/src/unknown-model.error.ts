/** The requested model alias is not configured; callers map it to a 404 / `model_not_found`. */
export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  readonly alias: string;
  readonly available: readonly string[];

  constructor(alias: string, available: readonly string[]) {
    super(`unknown model "${alias}"; available: ${available.length > 0 ? available.join(', ') : '(none)'}`);
    this.alias = alias;
    this.available = available;
  }
}
