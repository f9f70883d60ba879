import test from 'ava';
import * as oidc from 'openid-client';
import { createBackupCodeRepository } from '../../src/accounts/backup-code.repository.ts';
import { createBackupCodeService } from '../../src/accounts/backup-code.service.ts';
import { loadConfig } from '../../src/config.ts';
import { createSealedBox, UnsealError } from '../../src/shared/sealed-box.ts';
import { callApi } from '../helpers/api.ts';
import { authorize, submit } from '../helpers/authorization.ts';
import { migratedDatabase } from '../helpers/migrated-database.ts';
import { discover, registerClient } from '../helpers/relying-party.ts';
import { persistedServers } from '../helpers/server.ts';
import { continueWith, startUpstream } from '../helpers/upstream-provider.ts';

const OLD = 'old-keys-secret-0123456789abcdef-0123';
const NEW = 'new-keys-secret-0123456789abcdef-0123';

test('KEYS_SECRET lists several secrets, newest first, and refuses a short or repeated one', (t) => {
  const config = loadConfig({ NODE_ENV: 'test', KEYS_SECRET: `${NEW}, ${OLD}` });
  t.deepEqual(config.keysSecrets, [NEW, OLD]);
  t.is(config.keysSecret, NEW);
  t.throws(() => loadConfig({ NODE_ENV: 'test', KEYS_SECRET: `${NEW},short` }), { message: /KEYS_SECRET/ });
  t.throws(() => loadConfig({ NODE_ENV: 'test', KEYS_SECRET: `${NEW},${NEW}` }), { message: /lists a secret twice/ });
});

test('the newest secret seals; a value sealed under an older listed secret still opens, and no other', (t) => {
  const before = createSealedBox([OLD], 'purpose');
  const during = createSealedBox([NEW, OLD], 'purpose');
  const sealed = before.seal('row-1', 'upstream-token');
  t.is(during.open('row-1', sealed), 'upstream-token');
  // Bound to its row and purpose, whatever the secret.
  t.throws(() => during.open('row-2', sealed), { instanceOf: UnsealError });
  t.throws(() => createSealedBox([NEW, OLD], 'other').open('row-1', sealed), { instanceOf: UnsealError });
  // New values are sealed under the new secret alone; without any listed secret nothing opens.
  const resealed = during.seal('row-1', 'upstream-token');
  t.is(createSealedBox([NEW], 'purpose').open('row-1', resealed), 'upstream-token');
  t.throws(() => before.open('row-1', resealed), { instanceOf: UnsealError });
  t.throws(() => createSealedBox([NEW], 'purpose').open('row-1', sealed), { instanceOf: UnsealError });
});

test('after a new KEYS_SECRET is put in front, provider tokens kept under the old one are still served', async (t) => {
  const acme = await startUpstream(t, '127.0.0.22');
  const env = {
    FEDERATION_PROVIDERS: 'acme',
    FEDERATION_ACME_ISSUER: acme.issuer,
    FEDERATION_ACME_CLIENT_ID: 'fairyid-at-acme',
    FEDERATION_ACME_CLIENT_SECRET: 'acme-client-secret-for-fairyid',
    FEDERATION_ACME_OFFLINE_ACCESS: 'true',
  };
  const servers = await persistedServers(t, env);
  const before = await servers.start({ KEYS_SECRET: OLD });
  await acme.register({
    clientId: 'fairyid-at-acme',
    clientSecret: 'acme-client-secret-for-fairyid',
    redirectUri: `${before.url}/federation/acme/callback`,
  });
  const { clientId, clientSecret } = await registerClient(before.app);
  const config = await discover(before.url, clientId, clientSecret);
  acme.state.person = { sub: 'acme-ada', email: 'ada@acme.example', email_verified: true };
  const resource = `${before.url}/api`;
  const signIn = await authorize(before, config, { scope: 'openid provider_tokens', resource });
  const consent = await continueWith(signIn.client, signIn, 'acme');
  const done = await submit(signIn.client, consent, '/confirm');
  const app = (await oidc.authorizationCodeGrant(config, done.url, signIn.check, { resource })).access_token;
  const kept = await callApi(before, app, 'GET', '/api/provider-token/acme');
  t.is(kept.status, 200, JSON.stringify(kept.body));

  // The same deployment restarted with a new secret in front of the old one.
  const after = await servers.start({ KEYS_SECRET: `${NEW},${OLD}` }, { port: Number(new URL(before.url).port) });
  const served = await callApi(after, app, 'GET', '/api/provider-token/acme');
  t.is(served.status, 200, JSON.stringify(served.body));
  t.is(served.body?.access_token, kept.body?.access_token);

  // The next refresh seals the new tokens under the new secret.
  after.clock.advance(3600);
  const refreshed = await callApi(after, app, 'GET', '/api/provider-token/acme');
  t.is(refreshed.status, 200, JSON.stringify(refreshed.body));
  t.not(refreshed.body?.access_token, kept.body?.access_token);
  const row = await after.app.services.db.selectFrom('provider_tokens').selectAll().executeTakeFirstOrThrow();
  const context = `${row.linked_identity_id}:access`;
  t.is(
    createSealedBox([NEW], 'provider-tokens-at-rest').open(context, row.access_token_sealed),
    refreshed.body?.access_token,
  );
  t.throws(() => createSealedBox([OLD], 'provider-tokens-at-rest').open(context, row.access_token_sealed));
});

test('backup codes issued before KEYS_SECRET was rotated still work once each, and new ones use the new secret', async (t) => {
  const db = await migratedDatabase(t);
  await db
    .insertInto('accounts')
    .values({ id: 'rotating', email: 'r@example.com', fairyname: 'rotating_1000' })
    .execute();
  const repository = createBackupCodeRepository(db);
  const [code = ''] = await createBackupCodeService(repository, [OLD]).regenerate('rotating');
  const rotated = createBackupCodeService(repository, [NEW, OLD]);
  t.true(await rotated.consume('rotating', code));
  t.false(await rotated.consume('rotating', code));
  // A set issued after the rotation is hashed under the new secret alone.
  const [fresh = ''] = await rotated.regenerate('rotating');
  t.false(await createBackupCodeService(repository, [OLD]).consume('rotating', fresh));
  t.true(await createBackupCodeService(repository, [NEW]).consume('rotating', fresh));
});
