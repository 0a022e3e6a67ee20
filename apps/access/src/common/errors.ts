import { ApiError, httpErrors } from '@aip/runtime';

/** access's errors, in OpenAI's shape (`ApiError` from `@aip/runtime`). */
export const errors = {
  ...httpErrors,
  modelNotFound: (model: string) => new ApiError(404, `The model '${model}' does not exist.`, 'not_found_error', 'model_not_found', 'model'),
  modelNotAllowed: (model: string) => new ApiError(403, `This API key may not use the model '${model}'.`, 'permission_error', 'model_not_allowed', 'model'),
  sessionNotOwned: () => new ApiError(403, 'This session_id belongs to another user of this tenant; start a new session.', 'permission_error', 'session_not_owned', 'session_id'),
  taskNotFound: () => new ApiError(404, 'No such task.', 'not_found_error', 'task_not_found'),
  /** A request with a word on the list while the policy is `block`. */
  contentPolicy: (param: string | null) => new ApiError(400, 'The request contains words that are not allowed.', 'invalid_request_error', 'content_policy_violation', param),
  profileNotFound: () => new ApiError(404, 'This user has no profile.', 'not_found_error', 'profile_not_found'),
};
