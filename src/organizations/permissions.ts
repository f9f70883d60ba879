export const ROLES = ['owner', 'admin', 'member', 'billing'] as const;
export type Role = (typeof ROLES)[number];

export const ORGANIZATION_STATUSES = ['pending', 'active', 'rejected', 'suspended'] as const;
export type OrganizationStatus = (typeof ORGANIZATION_STATUSES)[number];

/**
 * What each role may do; README's permission table is this table. Rules about owners (only an
 * owner makes or unmakes owners, an organization always keeps one) live in the service.
 */
export const PERMISSIONS = {
  'organization:read': ['owner', 'admin', 'member', 'billing'],
  'organization:update': ['owner', 'admin'],
  'organization:delete': ['owner'],
  'members:read': ['owner', 'admin', 'member', 'billing'],
  'members:manage': ['owner', 'admin'],
  'events:read': ['owner', 'admin'],
  'webhooks:manage': ['owner', 'admin'],
  'clients:manage': ['owner', 'admin'],
  'billing:read': ['owner', 'admin', 'billing'],
  'billing:manage': ['owner', 'billing'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function allows(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
