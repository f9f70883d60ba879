import { ApiError } from '../shared/api-error.ts';

export const organizationErrors = {
  notFound: () => new ApiError(404, 'organization_not_found', 'No such organization, or you are not a member of it.'),
  memberNotFound: () => new ApiError(404, 'member_not_found', 'That person is not a member of this organization.'),
  forbidden: (what: string) =>
    new ApiError(403, 'forbidden', `Your role in this organization does not allow you to ${what}.`),
  ownerRequired: () => new ApiError(403, 'owner_required', 'Only an owner can make, change or remove owners.'),
  lastOwner: () =>
    new ApiError(409, 'last_owner', 'An organization must keep at least one owner: make someone else owner first.'),
  slugTaken: () => new ApiError(409, 'slug_taken', 'That slug is already used by another organization.'),
  notActive: (status: string) =>
    new ApiError(
      403,
      'organization_not_active',
      `The organization is ${status}; this needs an approved (active) organization.`,
    ),
  platformOwnerRequired: () => new ApiError(403, 'platform_owner_required', 'Only the platform owner can do this.'),
  invalidTransition: (from: string, action: string) =>
    new ApiError(409, 'invalid_status_transition', `An organization that is ${from} cannot be ${action}.`),
};
