// Each domain owns its table types; this is the one place that sees them together, because kysely
// needs the whole schema in a single type. Type-only imports: storage code depends on no domain code.
import type { AccountTables } from '../accounts/account.table.ts';
import type { FactorTables } from '../accounts/factor.table.ts';
import type { RememberedBrowserTables } from '../accounts/remembered-browser.table.ts';
import type { AccountSessionTables } from '../accounts/account-session.table.ts';
import type { AuditTables } from '../audit/audit.table.ts';
import type { BillingTables } from '../billing/billing.table.ts';
import type { EventTables } from '../events/event.table.ts';
import type { EnvironmentTables } from '../environments/environment.table.ts';
import type { FederationTables } from '../federation/linked-identity.table.ts';
import type { ProviderTokenTables } from '../federation/provider-token.table.ts';
import type { OidcTables } from '../oidc/oidc.tables.ts';
import type { LedgerTables } from '../ledger/ledger.table.ts';
import type { OrganizationTables } from '../organizations/organization.table.ts';

export interface Database
  extends AccountTables,
    FactorTables,
    RememberedBrowserTables,
    AccountSessionTables,
    AuditTables,
    OidcTables,
    OrganizationTables,
    LedgerTables,
    BillingTables,
    EnvironmentTables,
    FederationTables,
    ProviderTokenTables,
    EventTables {}
