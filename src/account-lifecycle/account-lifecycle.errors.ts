import { ApiError } from '../shared/api-error.ts';

export const accountLifecycleErrors = {
  notFound: () => new ApiError(404, 'account_not_found', 'No account has that id.'),
  platformOwnerRequired: () => new ApiError(403, 'platform_owner_required', 'Only the platform owner can do this.'),
  notYourself: () =>
    new ApiError(409, 'cannot_suspend_yourself', 'You cannot suspend your own account; ask another platform owner.'),
  invalidTransition: (status: string, action: string) =>
    new ApiError(409, 'invalid_status_transition', `An account that is ${status} cannot be ${action}.`),
};
