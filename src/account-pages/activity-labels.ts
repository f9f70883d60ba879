import type { AuditEventName } from '../audit/audit.service.ts';

/** How the activity page names each audit event; a new event name fails type-checking until it has one. */
export const EVENT_LABELS: Record<AuditEventName, string> = {
  sign_in: 'Signed in',
  sign_in_failed: 'Sign-in attempt failed',
  second_factor: 'Second sign-in step passed',
  second_factor_failed: 'Second sign-in step failed',
  lockout: 'Sign-in locked after too many wrong codes',
  factor_added: 'Sign-in method added',
  factor_renamed: 'Sign-in method renamed',
  factor_removed: 'Sign-in method removed',
  backup_codes_generated: 'New backup codes made',
  backup_code_used: 'Backup code used',
  remembered_browsers_forgotten: 'Remembered browsers forgotten',
  session_revoked: 'A device was signed out',
  sign_out: 'Signed out',
  consent_granted: 'App allowed',
  grant_revoked: 'App disconnected',
  refresh_token_reused: 'App retried with the token it had just replaced',
  email_changed: 'Email address changed',
  phone_changed: 'Phone number changed',
  profile_updated: 'Profile updated',
  identity_linked: 'Sign-in provider linked',
  identity_unlinked: 'Sign-in provider unlinked',
  provider_token_fetched: 'An app fetched your sign-in provider token',
  environment_created: 'Environment created',
  environment_started: 'Environment started',
  environment_stopped: 'Environment stopped',
  environment_renamed: 'Environment renamed',
  environment_deleted: 'Environment deleted',
  environment_state_changed: 'Environment changed state',
  terminal_session_started: 'Terminal opened',
  terminal_session_ended: 'Terminal closed',
  builder_changed: 'Developer access changed',
  client_registered: 'App registered',
  client_secret_rotated: 'App secret replaced',
  client_removed: 'App deleted',
  sign_in_refused: 'Sign-in refused: the account is suspended',
  account_suspended: 'Account suspended by the platform owner',
  account_reactivated: 'Account reactivated by the platform owner',
  account_exported: 'Your data was downloaded',
  account_deleted: 'Account deleted',
  organization_approved: 'You approved an organization (platform console)',
  organization_rejected: 'You rejected an organization (platform console)',
  organization_suspended: 'You suspended an organization (platform console)',
  signing_keys_rotated: 'You rotated the signing keys (platform console)',
  signing_key_retired: 'You retired a signing key (platform console)',
};

/**
 * Events told as a sentence about the app and what it did, where the record names them: the
 * person reads "Acme Notes fetched your GitHub token" rather than a label and two facts.
 */
const SENTENCES: Partial<Record<AuditEventName, (app: string, detail: Record<string, unknown>) => string | undefined>> =
  {
    provider_token_fetched: (app, detail) =>
      typeof detail.provider_name === 'string' ? `${app} fetched your ${detail.provider_name} token` : undefined,
  };

/** How the activity page heads one event of the trail; `app` is the name of the app it names, if any. */
export function eventLabel(
  event: string,
  failed: boolean,
  detail: Record<string, unknown> | null,
  app: string | undefined,
): string {
  if (!Object.hasOwn(EVENT_LABELS, event)) return event.replaceAll('_', ' ');
  const name = event as AuditEventName;
  const sentence = !failed && app && detail ? SENTENCES[name]?.(app, detail) : undefined;
  return sentence ?? ((failed && FAILURE_LABELS[name]) || EVENT_LABELS[name]);
}

/** Where the plain label would say something happened that did not. */
export const FAILURE_LABELS: Partial<Record<AuditEventName, string>> = {
  email_changed: 'Email address change not completed',
  phone_changed: 'Phone number change not completed',
  refresh_token_reused: 'App disconnected: an old token of it was used again',
};

const METHODS: Record<string, string> = {
  email: 'email code',
  sms: 'text message code',
  totp: 'authenticator app',
  backup_code: 'backup code',
  passkey: 'passkey',
  passkey_hwk: 'security key',
  passkey_swk: 'passkey',
  backup_codes: 'backup codes',
  federated: 'sign-in provider',
};

const REASONS: Record<string, string> = {
  wrong_code: 'wrong code',
  expired: 'the code had expired',
  too_many_wrong_codes: 'too many wrong codes',
  taken: 'another account already has it',
  code_reused: 'the code had already been used',
  challenge: 'the request had expired or was already answered',
  invalid: 'the passkey’s answer did not check out',
  unknown_credential: 'an unknown passkey',
  wrong_account: 'a passkey of another account',
  user_not_verified: 'the device did not confirm it was you',
  cloned: 'the passkey may have been copied',
  upstream_denied: 'not allowed at the sign-in provider',
  upstream_refused: 'the sign-in provider’s answer did not check out',
  upstream_unavailable: 'the sign-in provider did not answer',
  backup_state: 'the passkey changed how it is stored',
  already_used: 'its grace retry was already used',
  window_over: 'it was replaced too long ago',
  other_client: 'another app presented it',
  other_key: 'it came without the app’s key',
};

const FIELDS: Record<string, string> = { name: 'name', picture: 'picture' };

/**
 * The facts in an event's detail that a person can use, in words: how they signed in, why it
 * failed, what changed. Internal ids (session uids, grant ids) are left out.
 */
export function describeDetail(detail: Record<string, unknown> | null): string[] {
  if (!detail) return [];
  const text = (key: string) => (typeof detail[key] === 'string' ? (detail[key] as string) : undefined);
  const facts: string[] = [];
  const method = text('method') ?? text('channel');
  if (method) facts.push(METHODS[method] ? `With ${article(METHODS[method])}` : `With ${method.replaceAll('_', ' ')}`);
  const factor = text('factor') ?? text('type') ?? text('kind');
  if (factor) facts.push(capitalize(METHODS[factor] ?? factor.replaceAll('_', ' ')));
  const name = text('name') ?? text('label');
  if (name) facts.push(`“${name}”`);
  const reason = text('reason');
  if (reason) facts.push(`Failed: ${REASONS[reason] ?? reason.replaceAll('_', ' ')}`);
  const from = text('from');
  const to = text('to');
  if (from && to) facts.push(`From ${from} to ${to}`);
  else if (to) facts.push(`To ${to}`);
  const until = text('until');
  if (until && !Number.isNaN(Date.parse(until)))
    facts.push(`Locked until ${until.slice(0, 10)} ${until.slice(11, 16)} UTC`);
  if (Array.isArray(detail.changed)) {
    const fields = detail.changed
      .filter((field): field is string => typeof field === 'string')
      .map((field) => FIELDS[field] ?? field);
    if (fields.length) facts.push(`Changed: ${fields.join(' and ')}`);
  }
  if (detail.everywhere === false) facts.push('From one app only');
  if (detail.created === true) facts.push('Your account was created');
  return facts;
}

const article = (noun: string) => `${/^[aeiou]/.test(noun) ? 'an' : 'a'} ${noun}`;
const capitalize = (words: string) => words.charAt(0).toUpperCase() + words.slice(1);
