import { ApiError } from '../shared/api-error.ts';

export const billingErrors = {
  unknownPack: () =>
    new ApiError(400, 'invalid_request', 'Invalid body "pack": not a DUST pack we sell (see GET /api/dust/packs).'),
  unknownPlan: () => new ApiError(400, 'invalid_request', 'Invalid body "plan": not a plan we offer.'),
  planActive: (plan: string) =>
    new ApiError(
      409,
      'plan_active',
      `The organization already has the ${plan} plan; a second subscription would bill it twice.`,
    ),
  providerUnavailable: () =>
    new ApiError(
      502,
      'payment_provider_unavailable',
      'The payment provider could not start a checkout. Please try again in a moment.',
    ),
};
