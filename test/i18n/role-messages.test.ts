import test from 'ava';
import { catalogs } from '../../src/i18n/catalog.ts';
import { ROLES } from '../../src/organizations/permissions.ts';

// The invitation and consent pages pick these keys by the role's name, which the types cannot follow.
test('every organization role has its name and its invitation sentence in the catalogs', (t) => {
  for (const role of ROLES) {
    t.truthy(catalogs.en[`invitation.role.${role}` as keyof typeof catalogs.en], `invitation.role.${role}`);
    t.truthy(catalogs.en[`invitation.lead.${role}` as keyof typeof catalogs.en], `invitation.lead.${role}`);
  }
});
