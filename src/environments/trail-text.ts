import { durationText } from '../i18n/duration.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { EnvironmentEvent } from './environment.table.ts';

/** Why a step failed, as the trail's `error` and `retry` entries keep it in their detail. */
export type FailureCause =
  | { cause: 'provider'; provider_message: string }
  | { cause: 'unreachable' }
  | { cause: 'template_gone'; template: string }
  | { cause: 'ready_timeout'; minutes: number };

type Detail = Record<string, unknown>;

const word = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
const amount = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

const STOP_REASONS: Record<string, Text> = {
  insufficient_funds: text('environments.trail.reason.insufficientFunds'),
  idle: text('environments.trail.reason.idle'),
  account_suspended: text('environments.trail.reason.accountSuspended'),
};

/** Entries whose words need nothing but their kind. */
const FIXED: Record<string, Text> = {
  start_requested: text('environments.trail.startRequested'),
  delete_requested: text('environments.trail.deleteRequested'),
  machine_requested: text('environments.trail.machineRequested'),
  deleted: text('environments.trail.deleted'),
  phone_home_refused: text('environments.trail.phoneHomeRefused'),
};

function causeText(detail: Detail): Text | undefined {
  switch (detail.cause) {
    case 'provider': {
      // The provider's own words (or a driver's), quoted as they came: they have no other language.
      const answer = word(detail.provider_message);
      return answer ? text('environments.trail.providerSaid', { answer }) : undefined;
    }
    case 'unreachable':
      return text('environments.trail.providerUnreachable');
    case 'template_gone': {
      const template = word(detail.template);
      return template ? text('environments.trail.templateGone', { template }) : undefined;
    }
    case 'ready_timeout': {
      const minutes = amount(detail.minutes);
      return minutes === undefined
        ? undefined
        : text('environments.trail.readyTimeout', { wait: durationText(minutes * 60) });
    }
    default:
      return undefined;
  }
}

function systemStopText(detail: Detail): Text | undefined {
  if (detail.reason === 'idle') return text('environments.trail.stoppingIdle');
  if (detail.reason === 'account_suspended') return text('environments.trail.stoppingSuspended');
  const hour = amount(detail.hour);
  const price = amount(detail.price);
  if (detail.reason !== 'insufficient_funds' || hour === undefined || price === undefined) return undefined;
  return text('environments.trail.stoppingUnpaid', { hour, price });
}

/**
 * An entry of the environment's trail in a reader's words. The trail stores an English `message`
 * (the API's, which stays English) and keeps that message's variable parts in `detail`; a page words
 * the entry from its kind and those parts, in its own language. Undefined for an entry whose words
 * are not FairyID's (the machine's output) or that was written before its detail carried them: a
 * page shows those as stored.
 */
export function trailText(event: Pick<EnvironmentEvent, 'kind' | 'to_state' | 'message' | 'detail'>): Text | undefined {
  const detail = event.detail;
  const fixed = FIXED[event.kind];
  if (fixed) return fixed;
  switch (event.kind) {
    case 'requested': {
      const [template, tier, region] = [word(detail.template), word(detail.tier), word(detail.region)];
      return template && tier && region ? text('environments.trail.requested', { template, tier, region }) : undefined;
    }
    case 'renamed': {
      const [from, to] = [word(detail.from), word(detail.to)];
      return from && to ? text('environments.trail.renamed', { from, to }) : undefined;
    }
    case 'stop_requested':
      // A person's stop has no reason; FairyID's own says why.
      return detail.reason === undefined ? text('environments.trail.stopRequested') : systemStopText(detail);
    case 'machine_created': {
      const host = word(detail.host);
      return host ? text('environments.trail.machineUp', { host }) : undefined;
    }
    case 'ready':
      return detail.via === 'phone_home'
        ? text('environments.trail.readyPhoneHome')
        : detail.via === 'ssh_probe'
          ? text('environments.trail.readySsh')
          : undefined;
    case 'machine_lost':
      return text(event.to_state === 'starting' ? 'environments.trail.machineGone' : 'environments.trail.machineLost');
    case 'error': {
      const why = causeText(detail);
      return why && text('environments.trail.failed', { why });
    }
    case 'retry': {
      const why = causeText(detail);
      const seconds = amount(detail.retry_in_s);
      return why && seconds !== undefined
        ? text('environments.trail.retry', { wait: durationText(seconds), why })
        : undefined;
    }
    case 'low_balance': {
      const balance = amount(detail.balance);
      return balance === undefined ? undefined : text('environments.trail.lowBalance', { balance });
    }
    case 'idle_warning': {
      const stopAt = new Date(word(detail.stop_at) ?? Number.NaN);
      return Number.isNaN(stopAt.getTime()) ? undefined : text('environments.trail.idleWarning', { time: stopAt });
    }
    case 'stopped': {
      if (!('reason' in detail)) return undefined;
      const reason = typeof detail.reason === 'string' ? STOP_REASONS[detail.reason] : undefined;
      return reason ? text('environments.trail.stoppedBecause', { reason }) : text('environments.trail.stopped');
    }
    case 'machine_note':
      // What a driver reported about the machine, in its own words.
      return event.message ? text('environments.trail.machineNote', { note: event.message }) : undefined;
    case 'machine_output_truncated': {
      const [kib, path] = [amount(detail.kib), word(detail.path)];
      return kib !== undefined && path ? text('environments.trail.outputTruncated', { kib, path }) : undefined;
    }
    default:
      return undefined;
  }
}
