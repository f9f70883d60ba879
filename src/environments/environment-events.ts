import type { EventDraft } from '../events/event-catalog.ts';
import type { Environment } from './environment.table.ts';

/** Who changed it: a person (through an app when `clientId` is set), or FairyID itself (the reconciler). */
export type EnvironmentEventActor = { accountId: string; clientId?: string | undefined } | 'system';

type Stop = 'requested' | 'insufficient_dust' | 'idle' | 'account_suspended';

/** The catalog event of an environment change, written in the transaction of that change. */
export function environmentEvent(
  environment: Pick<Environment, 'id' | 'name' | 'organization_id'>,
  actor: EnvironmentEventActor,
  what:
    | { type: 'environment.created' | 'environment.started' | 'environment.deleted' }
    | { type: 'environment.stopped'; reason: Stop },
): EventDraft {
  const about = {
    actor:
      actor === 'system'
        ? { type: 'system' as const }
        : { type: 'account' as const, id: actor.accountId, client_id: actor.clientId ?? null },
    subject: { type: 'environment', id: environment.id },
    organizationId: environment.organization_id,
  };
  const data = { environment_id: environment.id, name: environment.name };
  return what.type === 'environment.stopped'
    ? { ...about, type: what.type, data: { ...data, reason: what.reason } }
    : { ...about, type: what.type, data };
}
