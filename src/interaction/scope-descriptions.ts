const DESCRIPTIONS: Record<string, string> = {
  openid: 'Know who you are (your FairyID account identifier)',
  profile: 'See your name, picture and fairyname',
  email: 'See your email address',
  phone: 'See your phone number',
  offline_access: 'Stay connected when you are not using it',
  builder: 'Know whether you build apps on FairyID',
  organization: 'Act for the organization you choose below, with your role in it',
  'account:read': 'Read your FairyID account through the FairyID API',
  'organizations:read': 'See your organizations and their members',
  'organizations:write': 'Create and manage organizations and members on your behalf',
  'dust:read': 'See your DUST balance and history',
  'dust:spend': 'Spend your DUST in this app (every charge shows in your history)',
  'dust:manage': 'Move DUST between you and your organizations, and set what apps may spend',
  'environments:read': 'See your development environments and those of your organizations',
  'environments:write': 'Create, start, stop and delete development environments, which spend DUST',
  'environments:connect': 'Open terminals to your development environments and type commands in them',
  provider_tokens: 'Use your accounts at the sign-in providers you linked (GitHub, Google, …) on your behalf',
  'clients:read': 'See the apps you registered on FairyID',
  'clients:write': 'Register, change and delete apps in your name on FairyID, and replace their secrets',
  'platform:manage': 'Approve, reject and suspend organizations (platform owner only)',
};

export function describeScopes(scopes: Iterable<string>): string[] {
  return [...new Set(scopes)].map((scope) => DESCRIPTIONS[scope] ?? scope);
}
