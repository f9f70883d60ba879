import test from 'ava';
import * as oidc from 'openid-client';
import { callApi } from '../helpers/api.ts';
import { confirmAndSignIn, openCompleteVerificationUri } from '../helpers/device-approval.ts';
import { PageClient } from '../helpers/page-client.ts';
import { discover } from '../helpers/relying-party.ts';
import { persistedServers, startTestServer } from '../helpers/server.ts';

// One server start at a time: on the embedded database, WASM Postgres start-ups compete for the CPU.

const CLI_SCOPE =
  'openid profile email offline_access account:read organizations:read organizations:write dust:read environments:read environments:write environments:connect';

test.serial(
  'the fairy-cli public client exists at start and signs a person in to the API with the device flow',
  async (t) => {
    const server = await startTestServer(t);
    const config = await discover(server.url, 'fairy-cli');
    t.true(config.serverMetadata().grant_types_supported?.includes('urn:ietf:params:oauth:grant-type:device_code'));
    const resource = `${server.url}/api`;
    const device = await oidc.initiateDeviceAuthorization(config, { scope: CLI_SCOPE, resource });
    const stop = new AbortController();
    t.teardown(() => stop.abort());
    const polling = oidc.pollDeviceAuthorizationGrant(config, device, undefined, { signal: stop.signal });
    polling.catch(() => {});

    const browser = new PageClient(server.url);
    const confirmPage = await openCompleteVerificationUri(browser, device);
    const { html } = await confirmAndSignIn(server, browser, confirmPage, 'cli-user@example.com');
    t.regex(html, /fairy CLI/);
    const tokens = await polling;

    t.is(
      tokens.scope?.split(' ').sort().join(' '),
      CLI_SCOPE.split(' ')
        .filter((scope) => scope.includes(':'))
        .sort()
        .join(' '),
    );
    const me = await callApi(server, tokens.access_token, 'GET', '/api/me');
    t.is(me.status, 200, 'the access token is for the API');
    t.is(me.body?.email, 'cli-user@example.com');
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    t.not(refreshed.refresh_token, tokens.refresh_token, 'refresh tokens rotate for the CLI too');
    t.is((await callApi(server, refreshed.access_token, 'GET', '/api/me')).status, 200, 'the refresh keeps the API');
  },
);

test.serial('fairy-cli cannot ask for scopes beyond its own, nor use client credentials', async (t) => {
  const server = await startTestServer(t);
  const config = await discover(server.url, 'fairy-cli');
  const spend = await t.throwsAsync(
    oidc.initiateDeviceAuthorization(config, { scope: 'openid dust:spend', resource: `${server.url}/api` }),
  );
  t.is((spend as oidc.ResponseBodyError).error, 'invalid_scope');
  const machine = await t.throwsAsync(oidc.clientCredentialsGrant(config, { scope: 'account:read' }));
  // oidc-provider's answer to a grant type the client did not register.
  t.is((machine as oidc.ResponseBodyError).error, 'invalid_request');
  t.regex(String((machine as oidc.ResponseBodyError).error_description), /grant type is not allowed/);
});

test.serial('FAIRY_CLI_CLIENT=false removes the fairy-cli client at start', async (t) => {
  const servers = await persistedServers(t);
  const on = await servers.start();
  t.truthy(await on.app.clients.find('fairy-cli'));
  const off = await servers.start({ FAIRY_CLI_CLIENT: 'false' });
  t.is(await off.app.clients.find('fairy-cli'), undefined);
  const config = await discover(off.url, 'fairy-cli');
  const refused = await t.throwsAsync(oidc.initiateDeviceAuthorization(config, { scope: 'openid' }));
  t.is((refused as oidc.ResponseBodyError).error, 'invalid_client');
});
