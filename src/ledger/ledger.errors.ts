import { ApiError } from '../shared/api-error.ts';

export const ledgerErrors = {
  insufficientFunds: () => new ApiError(402, 'insufficient_funds', 'The wallet does not hold enough DUST for this.'),
  allowanceExceeded: () =>
    new ApiError(
      403,
      'allowance_exceeded',
      'This charge is larger than what the person allowed this app to spend without them.',
    ),
  chargeNotFound: () => new ApiError(404, 'charge_not_found', 'This app made no such charge.'),
  refundExceedsCharge: () =>
    new ApiError(409, 'refund_exceeds_charge', 'Refunds of a charge cannot add up to more than the charge.'),
  idempotencyKeyRequired: () =>
    new ApiError(
      400,
      'idempotency_key_required',
      'Send an Idempotency-Key header (1-255 characters) with every request that moves DUST.',
    ),
  idempotencyKeyReused: () =>
    new ApiError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used with a different request.'),
  otherPerson: () => new ApiError(403, 'forbidden', 'A person’s token can only charge that person.'),
  accountRequired: () =>
    new ApiError(400, 'invalid_request', 'Invalid body "account_id": required with a client token.'),
  personRequired: () =>
    new ApiError(403, 'person_required', 'This route needs a token issued to a person, not to a client.'),
  appTokenRequired: () =>
    new ApiError(
      403,
      'client_token_required',
      'Only the app that charged refunds, with a token of its own (client credentials), not a person’s.',
    ),
  appNotApproved: () =>
    new ApiError(
      403,
      'app_not_approved',
      'Only first-party apps and apps of approved organizations may charge without the person present.',
    ),
};
