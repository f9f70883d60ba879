import { type Text, text } from '../i18n/translator.ts';
import { ApiError } from '../shared/api-error.ts';

const STATES = ['provisioning', 'running', 'stopping', 'stopped', 'starting', 'deleting', 'error'] as const;
const stateText = (state: string): Text | string =>
  (STATES as readonly string[]).includes(state)
    ? text(`notices.environment.state.${state as (typeof STATES)[number]}`)
    : state;
const CANNOT = {
  start: 'apiErrors.environment.cannotStart',
  stop: 'apiErrors.environment.cannotStop',
  delete: 'apiErrors.environment.cannotDelete',
  'kept running': 'apiErrors.environment.cannotKeepRunning',
} as const;

/** Each refusal in the API's English (`message`) and, for the environments page, in the catalogs' words (`says`). */
export const environmentErrors = {
  notFound: () =>
    new ApiError(
      404,
      'environment_not_found',
      'No such environment, or it belongs to someone you cannot see.',
      {},
      text('apiErrors.environment.notFound'),
    ),
  unknownTemplate: (id: string) =>
    new ApiError(
      400,
      'unknown_template',
      `There is no environment template "${id}"; see GET /api/environment-templates.`,
      {},
      text('apiErrors.environment.unknownTemplate', { template: id }),
    ),
  unknownRegion: (region: string, regions: readonly string[]) =>
    new ApiError(
      400,
      'unknown_region',
      `Region "${region}" is not offered; choose one of ${regions.join(', ')}.`,
      {},
      text('apiErrors.environment.unknownRegion', { region, regions: regions.join(', ') }),
    ),
  forbidden: (what: string) =>
    new ApiError(
      403,
      'forbidden',
      `Your role in this organization does not allow you to ${what}.`,
      {},
      text('apiErrors.environment.forbidden'),
    ),
  personalLimit: (limit: number) =>
    new ApiError(
      409,
      'environment_limit_reached',
      `You may have at most ${limit} environment${limit === 1 ? '' : 's'} of your own; delete one first.`,
      {},
      text('apiErrors.environment.personalLimit', { count: limit }),
    ),
  planLimit: (plan: string, limit: number) =>
    new ApiError(
      409,
      'environment_limit_reached',
      `The organization's ${plan} plan allows ${limit} environment${limit === 1 ? '' : 's'}; delete one or upgrade the plan.`,
      {},
      text('apiErrors.environment.planLimit', { plan, count: limit }),
    ),
  cannotPay: (price: number) =>
    new ApiError(
      402,
      'insufficient_funds',
      `Running this environment costs ${price} DUST per started hour, and the wallet does not hold that much.`,
      {},
      text('apiErrors.environment.cannotPay', { price }),
    ),
  invalidTransition: (state: string, action: string) =>
    new ApiError(
      409,
      'invalid_state',
      `An environment that is ${state} cannot be ${action} now.`,
      {},
      text(CANNOT[action as keyof typeof CANNOT] ?? 'apiErrors.environment.cannotChange', {
        state: stateText(state),
      }),
    ),
  idempotencyKeyRequired: () =>
    new ApiError(
      400,
      'idempotency_key_required',
      'Send an Idempotency-Key header (1-255 characters) with every request that creates an environment.',
      {},
      text('apiErrors.environment.formExpired'),
    ),
  idempotencyKeyReused: () =>
    new ApiError(
      409,
      'idempotency_key_reused',
      'This Idempotency-Key was already used with a different request.',
      {},
      text('apiErrors.environment.formReused'),
    ),
  unavailable: () =>
    new ApiError(
      503,
      'environments_unavailable',
      'Environments are not configured on this server (no driver).',
      {},
      text('apiErrors.environment.unavailable'),
    ),
};
