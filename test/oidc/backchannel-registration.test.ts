import test from 'ava';
import { runClientsCommand } from '../../src/cli/clients.command.ts';
import type { CliContext } from '../../src/cli/context.ts';
import { apiToken, callApi } from '../helpers/api.ts';
import { startTestServer } from '../helpers/server.ts';

const SCOPES = ['organizations:read', 'organizations:write'];

test('an organization registers a client with a back-channel logout URI, and sees it listed', async (t) => {
  const server = await startTestServer(t, { env: { ORG_APPROVAL: 'auto' } });
  const owner = await apiToken(server, 'owner@example.com', SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Wren', slug: 'wren' })).body!;

  const created = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, {
    client_name: 'Web',
    redirect_uris: ['https://wren.example/callback'],
    backchannel_logout_uri: 'https://wren.example/backchannel-logout',
    backchannel_logout_session_required: true,
  });
  t.is(created.status, 201);
  t.is(created.body!.backchannel_logout_uri, 'https://wren.example/backchannel-logout');
  t.true(created.body!.backchannel_logout_session_required);

  const listed = await callApi(server, owner, 'GET', `/api/organizations/${org.id}/clients`);
  t.is(listed.body!.data[0].backchannel_logout_uri, 'https://wren.example/backchannel-logout');
  const client = await server.app.provider.current().Client.find(created.body!.client_id);
  t.is(client?.backchannelLogoutUri, 'https://wren.example/backchannel-logout', 'oidc-provider sees it');
  t.true(client?.backchannelLogoutSessionRequired);
});

test('a back-channel logout URI that is not a web address is refused by the client validation', async (t) => {
  const server = await startTestServer(t, { env: { ORG_APPROVAL: 'auto' } });
  const owner = await apiToken(server, 'owner@example.com', SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Wren', slug: 'wren' })).body!;

  const refused = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, {
    client_name: 'Web',
    redirect_uris: ['https://wren.example/callback'],
    backchannel_logout_uri: 'ftp://wren.example/backchannel-logout',
  });
  t.is(refused.status, 400);
  t.is(refused.body!.error, 'invalid_client_metadata');
  t.regex(refused.body!.error_description, /backchannel_logout_uri/);
  t.deepEqual(
    (await callApi(server, owner, 'GET', `/api/organizations/${org.id}/clients`)).body!.data,
    [],
    'nothing was registered',
  );
});

test.serial('the clients CLI registers a back-channel logout URI and shows it', async (t) => {
  const server = await startTestServer(t);
  const printed: string[] = [];
  const context = {
    clients: async () => server.app.clients,
    audit: server.app.services.audit,
    events: server.app.services.events,
    print: (line: string) => printed.push(line),
  } as unknown as CliContext;
  await runClientsCommand(context, [
    'add',
    '--name',
    'Notes',
    '--client-id',
    'notes',
    '--redirect-uri',
    'https://notes.example/callback',
    '--backchannel-logout-uri',
    'https://notes.example/backchannel-logout',
    '--backchannel-logout-session-required',
  ]);
  await runClientsCommand(context, ['show', 'notes']);
  const stored = await server.app.clients.find('notes');
  t.is(stored?.backchannel_logout_uri, 'https://notes.example/backchannel-logout');
  t.true(stored?.backchannel_logout_session_required);
  t.true(
    printed.some((line) =>
      /^backchannel_logout_uri: https:\/\/notes\.example\/backchannel-logout \(sid required\)$/m.test(line),
    ),
  );
});
