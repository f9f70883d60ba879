import test from 'ava';
import * as oidc from 'openid-client';
import { apiToken, callApi } from '../helpers/api.ts';
import { discover } from '../helpers/relying-party.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

const SCOPES = ['account:read', 'organizations:read', 'organizations:write'];

async function approvedOrganization(server: TestServer) {
  const owner = await apiToken(server, 'owner@example.com', SCOPES);
  const queen = await apiToken(server, 'queen@example.com', ['platform:manage']);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Wren Works', slug: 'wren' })).body!;
  return { owner, queen, org };
}

const machineClient = { client_name: 'Worker', grant_types: ['client_credentials'], scope: 'account:read' };

test('a pending organization cannot register clients; once approved it can, and the client works', async (t) => {
  const server = await startTestServer(t, { env: { PLATFORM_OWNER_EMAIL: 'queen@example.com' } });
  const { owner, queen, org } = await approvedOrganization(server);
  const blocked = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, machineClient);
  t.is(blocked.status, 403);
  t.is(blocked.body!.error, 'organization_not_active');
  t.deepEqual(
    (await callApi(server, owner, 'GET', `/api/organizations/${org.id}/clients`)).body!.data,
    [],
    'nothing was registered',
  );

  await callApi(server, queen, 'POST', `/api/platform/organizations/${org.id}/approve`, {});
  const created = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, machineClient);
  t.is(created.status, 201);
  const { client_id: clientId, client_secret: secret } = created.body!;
  t.truthy(secret);
  const config = await discover(server.url, clientId, secret);
  t.truthy((await oidc.clientCredentialsGrant(config, { scope: 'account:read' })).access_token);

  const listed = await callApi(server, owner, 'GET', `/api/organizations/${org.id}/clients`);
  t.is(listed.body!.data[0].client_id, clientId);
  t.false('client_secret' in listed.body!.data[0], 'the secret is never shown again');

  const rotated = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients/${clientId}/secret`);
  t.not(rotated.body!.client_secret, secret);
  const stale = await t.throwsAsync<oidc.ResponseBodyError>(
    oidc.clientCredentialsGrant(config, { scope: 'account:read' }),
  );
  t.is(stale?.error, 'invalid_client', 'the old secret stopped working at once');
  const fresh = await discover(server.url, clientId, rotated.body!.client_secret);
  t.truthy((await oidc.clientCredentialsGrant(fresh, { scope: 'account:read' })).access_token);

  t.is((await callApi(server, owner, 'DELETE', `/api/organizations/${org.id}/clients/${clientId}`)).status, 204);
  await t.throwsAsync(oidc.clientCredentialsGrant(fresh, { scope: 'account:read' }));
});

test('client metadata is validated, and other organizations cannot touch the client', async (t) => {
  const server = await startTestServer(t, { env: { ORG_APPROVAL: 'auto' } });
  const owner = await apiToken(server, 'owner@example.com', SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Wren', slug: 'wren' })).body!;
  t.is(org.status, 'active', 'ORG_APPROVAL=auto approves at once');
  const bad = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, {
    client_name: 'Web',
    redirect_uris: ['not a url'],
  });
  t.is(bad.status, 400);
  t.regex(bad.body!.error_description, /redirect_uris/);
  const web = await callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, {
    client_name: 'Web',
    redirect_uris: ['https://wren.example/callback'],
  });
  t.is(web.status, 201);

  const rival = await apiToken(server, 'rival@example.com', SCOPES);
  const theirs = (await callApi(server, rival, 'POST', '/api/organizations', { name: 'Rival', slug: 'rival' })).body!;
  const steal = await callApi(
    server,
    rival,
    'DELETE',
    `/api/organizations/${theirs.id}/clients/${web.body!.client_id}`,
  );
  t.is(steal.status, 404, 'a client of another organization does not exist for you');
  const stillThere = await callApi(server, owner, 'GET', `/api/organizations/${org.id}/clients`);
  t.is(stillThere.body!.data.length, 1);
});

test('redirect URIs must be https, or plain http on loopback only, and never carry a user name or password', async (t) => {
  const server = await startTestServer(t, { env: { ORG_APPROVAL: 'auto' } });
  const owner = await apiToken(server, 'owner@example.com', SCOPES);
  const org = (await callApi(server, owner, 'POST', '/api/organizations', { name: 'Wren', slug: 'wren' })).body!;
  const register = (body: Record<string, unknown>) =>
    callApi(server, owner, 'POST', `/api/organizations/${org.id}/clients`, { client_name: 'App', ...body });

  const plainHttp = await register({ redirect_uris: ['http://wren.example/callback'] });
  t.is(plainHttp.status, 400);
  t.is(plainHttp.body!.error, 'invalid_redirect_uri');
  t.regex(plainHttp.body!.error_description, /redirect_uris: http:\/\/wren\.example\/callback must use https/);

  const userinfo = await register({ redirect_uris: ['https://u:hunter2@wren.example/callback'] });
  t.is(userinfo.status, 400);
  t.is(userinfo.body!.error, 'invalid_redirect_uri');
  t.regex(userinfo.body!.error_description, /must not contain a user name or password/);
  t.false(userinfo.body!.error_description.includes('hunter2'), 'the password is not echoed');
  const userOnly = await register({ redirect_uris: ['https://trusted.example@wren.example/callback'] });
  t.is(userOnly.body!.error, 'invalid_redirect_uri', 'a user name alone can disguise the host');

  const logout = await register({
    redirect_uris: ['https://wren.example/callback'],
    post_logout_redirect_uris: ['http://wren.example/signed-out'],
  });
  t.is(logout.status, 400);
  t.is(logout.body!.error, 'invalid_client_metadata');
  t.regex(logout.body!.error_description, /post_logout_redirect_uris: .* must use https/);
  t.deepEqual((await callApi(server, owner, 'GET', `/api/organizations/${org.id}/clients`)).body!.data, []);

  // RFC 8252 7.3: a native app's loopback listener.
  const native = await register({
    redirect_uris: ['http://127.0.0.1:8080/cb', 'http://[::1]:8080/cb', 'http://localhost:8080/cb'],
    token_endpoint_auth_method: 'none',
  });
  t.is(native.status, 201);
  t.deepEqual(native.body!.redirect_uris, [
    'http://127.0.0.1:8080/cb',
    'http://[::1]:8080/cb',
    'http://localhost:8080/cb',
  ]);
});
