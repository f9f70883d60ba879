import type { AuditService } from '../audit/audit.service.ts';
import { currentRequestId } from '../shared/request-scope.ts';
import type { Environment, EnvironmentState } from './environment.table.ts';

/**
 * The audit record of a state change nobody asked for (the reconciler's work, FairyID's own stops),
 * on the trail of the person who created the environment. Its request id is the reconciler pass's,
 * the phone_home request's, or the request that suspended the owner.
 */
export function auditStateChange(
  audit: Pick<AuditService, 'record'>,
  environment: Environment,
  to: EnvironmentState,
  cause: string | null,
  extra: Record<string, unknown> = {},
) {
  return audit.record({
    event: 'environment_state_changed',
    outcome: to === 'error' ? 'failure' : 'success',
    origin: { ip: null, userAgent: null, requestId: currentRequestId() },
    accountId: environment.created_by,
    organizationId: environment.organization_id ?? undefined,
    // `cause`, not `reason`: the activity page reads `reason` as a failure's.
    detail: {
      environment_id: environment.id,
      name: environment.name,
      organization_id: environment.organization_id,
      from: environment.state,
      to,
      cause,
      ...extra,
    },
  });
}
