import { parseArgs } from 'node:util';
import { APP_LINK_FIELDS } from '../oidc/app-links.ts';
import type { ClientRegistry } from '../oidc/client-registry.ts';
import type { ClientMetadata } from '../oidc/oidc.tables.ts';
import type { EventRecorder } from '../events/event-recorder.ts';
import type { CliContext } from './context.ts';
import { UsageError } from './usage-error.ts';

const ADD_HELP = `Usage: npm run cli -- clients add --name NAME [options]

  --redirect-uri URI              allowed redirect URI (repeat for several)
  --post-logout-redirect-uri URI  allowed post-logout redirect URI (repeat)
  --grant-type TYPE               authorization_code (default, with refresh_token), refresh_token,
                                  client_credentials, urn:ietf:params:oauth:grant-type:device_code (repeat)
  --auth-method METHOD            client_secret_basic (default), client_secret_post, or none (public client)
  --scope "a b"                   scopes the client may request (default: any)
  --first-party                   our own app: consent is not asked
  --backchannel-logout-uri URL    where FairyID POSTs a logout_token when a person signs out
                                  (OpenID Connect Back-Channel Logout 1.0)
  --backchannel-logout-session-required
                                  logout tokens (and ID tokens) carry the session's sid
  --logo-uri URL                  the app's logo, shown on the sign-in and consent pages
  --client-uri URL                the app's home page (its domain is shown)
  --policy-uri URL                the app's privacy policy, linked from those pages
  --tos-uri URL                   the app's terms of service, linked from those pages
                                  (these four: https only, plain http only when NODE_ENV=development)
  --client-id ID                  choose the client_id (default: random)
  --json                          machine-readable output`;

const UPDATE_HELP = `Usage: npm run cli -- clients update <client_id> [options]

  --logo-uri URL, --client-uri URL, --policy-uri URL, --tos-uri URL
                                  set the app's logo, home page, policy and terms (https only,
                                  plain http only when NODE_ENV=development); "" removes one
  --json                          machine-readable output`;

const APP_LINK_OPTIONS = {
  'logo-uri': { type: 'string' },
  'client-uri': { type: 'string' },
  'policy-uri': { type: 'string' },
  'tos-uri': { type: 'string' },
} as const;

function appLinksFrom(values: Partial<Record<keyof typeof APP_LINK_OPTIONS, string>>) {
  return {
    ...(values['logo-uri'] !== undefined ? { logo_uri: values['logo-uri'] } : {}),
    ...(values['client-uri'] !== undefined ? { client_uri: values['client-uri'] } : {}),
    ...(values['policy-uri'] !== undefined ? { policy_uri: values['policy-uri'] } : {}),
    ...(values['tos-uri'] !== undefined ? { tos_uri: values['tos-uri'] } : {}),
  };
}

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const;

/**
 * The audit record of an operator's change to a client: the same event the API writes when an owner
 * makes it, on the owner's trail where the client has one, by the operator from no address.
 */
function auditedBy(context: CliContext) {
  return (event: 'client_registered' | 'client_removed', client: ClientMetadata) =>
    context.audit.record({
      event,
      outcome: 'success',
      origin: { ip: null, userAgent: null },
      accountId: client.owner_account_id ?? undefined,
      clientId: client.client_id,
      organizationId: client.organization_id ?? undefined,
      detail: { name: client.client_name ?? client.client_id, by: 'operator' },
    });
}

export async function runClientsCommand(context: CliContext, [action, ...args]: string[]) {
  const { print } = context;
  const clients = await context.clients();
  const audit = auditedBy(context);
  switch (action) {
    case 'add': {
      const added = await add(clients, args, context.events, print);
      if (added) await audit('client_registered', added);
      return;
    }
    case 'list': {
      const { values } = parseArgs({ args, options: { json: { type: 'boolean' } } });
      const all = await clients.list();
      if (values.json) return print(JSON.stringify(all.map(publicView), null, 2));
      for (const client of all)
        print(`${client.client_id}  ${client.client_name ?? ''}  [${client.grant_types.join(', ')}]`);
      return;
    }
    case 'show': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { json: { type: 'boolean' } },
      });
      const client = positionals[0] ? await clients.find(positionals[0]) : undefined;
      if (!client) throw new UsageError(`No client ${positionals[0] ?? '(missing client_id)'}.`);
      return print(values.json ? JSON.stringify(publicView(client), null, 2) : formatClient(client));
    }
    case 'update':
      return update(clients, args, print);
    case 'remove': {
      const clientId = args[0];
      if (!clientId) throw new UsageError('Usage: clients remove <client_id>');
      const client = await clients.find(clientId);
      if (!client || !(await clients.remove(clientId, { type: 'system' })))
        throw new UsageError(`No client ${clientId}.`);
      await audit('client_removed', client);
      return print(`Removed client ${clientId}: its grants and tokens are revoked.`);
    }
    default:
      throw new UsageError('Usage: clients add|list|show|update|remove (clients add --help for options)');
  }
}

/** Registers a client; its metadata, or undefined when only the help was asked for. */
async function add(
  clients: ClientRegistry,
  args: string[],
  events: EventRecorder,
  print: CliContext['print'],
): Promise<ClientMetadata | undefined> {
  const { values } = parseArgs({
    args,
    options: {
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true, default: [] },
      'post-logout-redirect-uri': { type: 'string', multiple: true, default: [] },
      'grant-type': { type: 'string', multiple: true, default: [] },
      'auth-method': { type: 'string', default: 'client_secret_basic' },
      scope: { type: 'string' },
      'first-party': { type: 'boolean', default: false },
      'backchannel-logout-uri': { type: 'string' },
      'backchannel-logout-session-required': { type: 'boolean', default: false },
      'client-id': { type: 'string' },
      ...APP_LINK_OPTIONS,
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    print(ADD_HELP);
    return undefined;
  }
  if (!values.name) throw new UsageError(`--name is required.\n\n${ADD_HELP}`);
  const authMethod = AUTH_METHODS.find((method) => method === values['auth-method']);
  if (!authMethod) throw new UsageError(`--auth-method must be one of ${AUTH_METHODS.join(', ')}.`);
  const grantTypes = values['grant-type'].length ? values['grant-type'] : ['authorization_code', 'refresh_token'];

  const { metadata, clientSecret } = await clients.register(
    {
      name: values.name,
      redirectUris: values['redirect-uri'],
      postLogoutRedirectUris: values['post-logout-redirect-uri'],
      grantTypes,
      authMethod,
      scope: values.scope,
      firstParty: values['first-party'],
      clientId: values['client-id'],
      backchannelLogoutUri: values['backchannel-logout-uri'],
      backchannelLogoutSessionRequired: values['backchannel-logout-session-required'],
      appLinks: appLinksFrom(values),
    },
    {
      // client.created commits with the client, as when an owner registers one through the API; the
      // operator acts as FairyID itself.
      along: async (trx, metadata) =>
        void (await events.record(trx, {
          type: 'client.created',
          actor: { type: 'system' },
          subject: { type: 'client', id: metadata.client_id },
          organizationId: metadata.organization_id ?? null,
          data: { client_id: metadata.client_id, name: values.name ?? metadata.client_id },
        })),
    },
  );
  if (values.json) {
    print(JSON.stringify({ ...publicView(metadata), client_secret: clientSecret }, null, 2));
    return metadata;
  }
  print(formatClient(metadata));
  if (clientSecret) {
    print(`\nclient_secret: ${clientSecret}`);
    print('Store it now: FairyID keeps only its hash and cannot show it again.');
  }
  return metadata;
}

async function update(clients: ClientRegistry, args: string[], print: CliContext['print']) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...APP_LINK_OPTIONS,
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return print(UPDATE_HELP);
  const clientId = positionals[0];
  if (!clientId) throw new UsageError(UPDATE_HELP);
  const links = appLinksFrom(values);
  if (!Object.keys(links).length) throw new UsageError(`Nothing to change.\n\n${UPDATE_HELP}`);
  const metadata = await clients.updateAppLinks(clientId, links);
  if (!metadata) throw new UsageError(`No client ${clientId}.`);
  print(values.json ? JSON.stringify(publicView(metadata), null, 2) : formatClient(metadata));
}

function publicView({ client_secret: _hash, ...metadata }: ClientMetadata) {
  return metadata;
}

function formatClient(client: ClientMetadata) {
  return [
    `client_id: ${client.client_id}`,
    `name: ${client.client_name ?? ''}`,
    `token_endpoint_auth_method: ${client.token_endpoint_auth_method}`,
    `grant_types: ${client.grant_types.join(' ')}`,
    `redirect_uris: ${(client.redirect_uris ?? []).join(' ') || '-'}`,
    `post_logout_redirect_uris: ${(client.post_logout_redirect_uris ?? []).join(' ') || '-'}`,
    `scope: ${client.scope ?? '(any)'}`,
    `first_party: ${client.first_party ? 'yes' : 'no'}`,
    `backchannel_logout_uri: ${client.backchannel_logout_uri ?? '-'}${client.backchannel_logout_session_required ? ' (sid required)' : ''}`,
    ...APP_LINK_FIELDS.map((field) => `${field}: ${typeof client[field] === 'string' ? client[field] : '-'}`),
  ].join('\n');
}
