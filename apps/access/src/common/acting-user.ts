import { idProblem } from '@aip/contracts';
import { ApiError, type AuthenticatedRequest } from '@aip/runtime';

/** Who a request acts for (ADR 0029): the end user, if any, and the owner string its conversations and responses carry. */
export interface Acting {
  tenantId: string;
  user: string | undefined;
  /** `user:<id>` when the request acts for an end user, else `key:<API key id>`. */
  owner: string;
}

export const ownerOf = (keyId: string, user: string | undefined) => (user ? `user:${user}` : `key:${keyId}`);

/**
 * Whether the request may read and change what belongs to `owner`: its owner, or the tenant's
 * admin key acting for nobody in particular (a realtime token it issued is its user's, not admin).
 */
export function mayAccess(request: AuthenticatedRequest, acting: Acting, owner: string | undefined): boolean {
  if (owner === undefined || owner === acting.owner) return true;
  return request.apiKey.admin === true && request.endUser === undefined && acting.user === undefined;
}

/** The user id an owner string names, if it names one. */
export const userOfOwner = (owner: string) => (owner.startsWith('user:') ? owner.slice('user:'.length) : undefined);

/**
 * The end user a request acts for: a realtime token's user (fixed: naming another is a 403), or,
 * with an API key (the tenant's backend), the user it names — the `X-User-Id` header or the body's
 * `user` (`named`), which must agree. Neither: the key itself, for nobody in particular.
 */
export function actingFor(request: AuthenticatedRequest, named?: string): Acting {
  const header = request.headers['x-user-id'];
  if (Array.isArray(header)) throw new ApiError(400, 'Send X-User-Id once.', 'invalid_request_error', 'invalid_user_id', 'X-User-Id');
  if (header !== undefined) {
    const problem = idProblem(header);
    if (problem) throw new ApiError(400, `X-User-Id ${problem}`, 'invalid_request_error', 'invalid_user_id', 'X-User-Id');
  }
  const { tenantId, id: keyId } = request.apiKey;
  if (request.endUser !== undefined) {
    for (const other of [header, named]) {
      if (other !== undefined && other !== request.endUser) throw new ApiError(403, 'A realtime token acts for its own user only.', 'permission_error', 'user_mismatch');
    }
    return { tenantId, user: request.endUser, owner: ownerOf(keyId, request.endUser) };
  }
  if (header !== undefined && named !== undefined && header !== named) throw new ApiError(400, `X-User-Id says "${header}" and the body's user "${named}": name one user.`, 'invalid_request_error', 'user_mismatch', 'user');
  const user = header ?? named;
  return { tenantId, user, owner: ownerOf(keyId, user) };
}
