import { ApiError } from '../shared/api-error.ts';

export const environmentErrors = {
  notFound: () =>
    new ApiError(404, 'environment_not_found', 'No such environment, or it belongs to someone you cannot see.'),
  unknownTemplate: (id: string) =>
    new ApiError(
      400,
      'unknown_template',
      `There is no environment template "${id}"; see GET /api/environment-templates.`,
    ),
  unknownRegion: (region: string, regions: readonly string[]) =>
    new ApiError(400, 'unknown_region', `Region "${region}" is not offered; choose one of ${regions.join(', ')}.`),
  forbidden: (what: string) =>
    new ApiError(403, 'forbidden', `Your role in this organization does not allow you to ${what}.`),
  personalLimit: (limit: number) =>
    new ApiError(
      409,
      'environment_limit_reached',
      `You may have at most ${limit} environment${limit === 1 ? '' : 's'} of your own; delete one first.`,
    ),
  planLimit: (plan: string, limit: number) =>
    new ApiError(
      409,
      'environment_limit_reached',
      `The organization's ${plan} plan allows ${limit} environment${limit === 1 ? '' : 's'}; delete one or upgrade the plan.`,
    ),
  cannotPay: (price: number) =>
    new ApiError(
      402,
      'insufficient_funds',
      `Running this environment costs ${price} DUST per started hour, and the wallet does not hold that much.`,
    ),
  invalidTransition: (state: string, action: string) =>
    new ApiError(409, 'invalid_state', `An environment that is ${state} cannot be ${action} now.`),
  idempotencyKeyRequired: () =>
    new ApiError(
      400,
      'idempotency_key_required',
      'Send an Idempotency-Key header (1-255 characters) with every request that creates an environment.',
    ),
  idempotencyKeyReused: () =>
    new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request.'),
  unavailable: () =>
    new ApiError(503, 'environments_unavailable', 'Environments are not configured on this server (no driver).'),
};
