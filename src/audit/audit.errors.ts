import { ApiError } from '../shared/api-error.ts';

export const auditErrors = {
  platformOwnerRequired: () => new ApiError(403, 'platform_owner_required', 'Only the platform owner can do this.'),
  invalidCursor: () =>
    new ApiError(400, 'invalid_request', 'Invalid query parameter "cursor": not a cursor we issued.'),
};
