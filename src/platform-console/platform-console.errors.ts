import { ApiError } from '../shared/api-error.ts';

export const platformConsoleErrors = {
  platformOwnerRequired: () => new ApiError(403, 'platform_owner_required', 'Only the platform owner can do this.'),
  keyNotFound: () => new ApiError(404, 'key_not_found', 'No signing key has that id.'),
  keyRetired: () => new ApiError(409, 'key_retired', 'That key is already retired.'),
  keyInUse: () =>
    new ApiError(409, 'key_in_use', 'That key is the newest of its algorithm and signs new tokens: rotate first.'),
  keyTooEarly: (retirableAt: Date | undefined) =>
    new ApiError(
      409,
      'key_retirement_too_early',
      `Tokens signed with that key may still be in use: it can be retired from ${retirableAt?.toISOString() ?? 'later'}.`,
    ),
};
