import { ApiError } from '../shared/api-error.ts';

/** What GET /api/provider-token/{provider} answers when there is no token to give. */
export const providerTokenErrors = {
  unknownProvider: (provider: string) =>
    new ApiError(404, 'provider_not_found', `"${provider.slice(0, 40)}" is not a sign-in provider offered here.`),
  notLinked: (name: string) => new ApiError(404, 'provider_not_linked', `No ${name} account is linked to this person.`),
  noToken: (name: string) =>
    new ApiError(
      404,
      'provider_token_missing',
      `No ${name} token is kept for this person: they must sign in with ${name} once more (or link it again at /account/providers).`,
    ),
  reconsentNeeded: (name: string) =>
    new ApiError(
      409,
      'provider_reconsent_required',
      `${name} no longer accepts the kept token: the person must reconnect ${name} at /account/providers.`,
    ),
  expired: (name: string) =>
    new ApiError(
      409,
      'provider_token_expired',
      `The kept ${name} token expired and ${name} gave no way to refresh it: the person must sign in with ${name} again.`,
    ),
  refreshing: () =>
    new ApiError(503, 'provider_token_refreshing', 'The token is being refreshed just now. Try again in a second.', {
      'Retry-After': '1',
    }),
  unavailable: (name: string) =>
    new ApiError(502, 'provider_unavailable', `${name} did not refresh the token. Try again in a moment.`, {
      'Retry-After': '30',
    }),
};
