/**
 * A claim-checked image cannot be handed out: the reference is not this tenant's and task's
 * (`forbidden`: whoever can publish to the broker must not read another tenant's images), or the
 * object is not there any more (`gone`: expired with its task, or the store was not shared).
 */
export class ClaimCheckError extends Error {
  override readonly name = 'ClaimCheckError';

  constructor(
    readonly reason: 'forbidden' | 'gone',
    message: string,
  ) {
    super(message);
  }
}
