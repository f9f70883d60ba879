import { ApiError } from '../shared/api-error.ts';

export const webhookErrors = {
  notFound: () => new ApiError(404, 'webhook_not_found', 'No such webhook endpoint here.'),
  deliveryNotFound: () => new ApiError(404, 'delivery_not_found', 'This endpoint has no such delivery.'),
  invalidUrl: (why: string) => new ApiError(400, 'invalid_webhook_url', `The webhook URL is refused: ${why}.`),
  platformOwnerRequired: () => new ApiError(403, 'platform_owner_required', 'Only the platform owner can do this.'),
};
