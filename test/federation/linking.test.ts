import test from 'ava';
import { redeem, submit } from '../helpers/authorization.ts';
import { nextAppCode } from '../helpers/authenticator-app.ts';
import { federationSetUp } from '../helpers/federation.ts';
import { latestCode, outboxMessages } from '../helpers/outbox.ts';
import { continueWith } from '../helpers/upstream-provider.ts';

test('a verified address from a trusted provider (Google) links to the account that signs in with it', async (t) => {
  const { server, google, config, signInPage } = await federationSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('grace@example.com');
  // The address compares as sign-in compares it: in lower case.
  google.state.person = { sub: 'google-grace', email: 'Grace@Example.com', email_verified: true };
  const signIn = await signInPage();
  const consent = await continueWith(signIn.client, signIn, 'google');
  const done = await submit(signIn.client, consent, '/confirm');
  t.is((await redeem(config, done.url, signIn.check)).sub, account.id);
});

test('a verified address from a generic provider asks for proof of the existing account, and links after it', async (t) => {
  const { server, acme, config, signInPage } = await federationSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('lin@example.com');
  acme.state.person = { sub: 'acme-lin', email: 'lin@example.com', email_verified: true };

  const signIn = await signInPage();
  const proof = await continueWith(signIn.client, signIn, 'acme');
  t.regex(proof.url.pathname, /\/federation\/link$/);
  t.regex(proof.html, /An account already signs in with <strong>lin@example.com<\/strong>/);

  const wrong = await submit(signIn.client, proof, '/federation/link', { code: '000000' });
  t.is(wrong.response.status, 400);
  t.regex(wrong.html, /That code is not right/);
  const consent = await submit(signIn.client, wrong, '/federation/link', {
    code: await latestCode(server.url, 'lin@example.com'),
  });
  const done = await submit(signIn.client, consent, '/confirm');
  const claims = await redeem(config, done.url, signIn.check);
  t.is(claims.sub, account.id);
  t.deepEqual(claims.amr, ['fed', 'otp']);

  // Linked now: the next sign-in with that identity asks for nothing more.
  const sent = (await outboxMessages(server.url)).length;
  const again = await signInPage();
  const consentAgain = await continueWith(again.client, again, 'acme');
  const doneAgain = await submit(again.client, consentAgain, '/confirm');
  t.is((await redeem(config, doneAgain.url, again.check)).sub, account.id);
  t.is((await outboxMessages(server.url)).length, sent);
});

test('an address the upstream did not verify (missing, false or the string "true") never links', async (t) => {
  const { server, google, acme, config, signInPage } = await federationSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('mo@example.com');
  const people = [
    { upstream: google, provider: 'google', person: { sub: 'g-1', email: 'mo@example.com' } },
    { upstream: google, provider: 'google', person: { sub: 'g-2', email: 'mo@example.com', email_verified: 'true' } },
    { upstream: acme, provider: 'acme', person: { sub: 'a-1', email: 'mo@example.com', email_verified: false } },
  ];
  for (const { upstream, provider, person } of people) {
    upstream.state.person = person;
    const signIn = await signInPage();
    const consent = await continueWith(signIn.client, signIn, provider);
    const done = await submit(signIn.client, consent, '/confirm');
    const { sub } = await redeem(config, done.url, signIn.check);
    t.not(sub, account.id, `${provider} ${JSON.stringify(person)}`);
    // A new account of its own, which does not take the unverified address.
    t.is((await server.app.services.accounts.findById(sub))?.email, null);
  }
  t.deepEqual(await outboxMessages(server.url), []);
});

test('a verified address from a trusted provider with no account yet becomes the new account’s address', async (t) => {
  const { server, google, config, signInPage } = await federationSetUp(t);
  google.state.person = { sub: 'google-new', email: 'new@example.com', email_verified: true };
  const signIn = await signInPage();
  const consent = await continueWith(signIn.client, signIn, 'google');
  const done = await submit(signIn.client, consent, '/confirm');
  const { sub } = await redeem(config, done.url, signIn.check);
  const account = await server.app.services.accounts.findById(sub);
  t.is(account?.email, 'new@example.com');
  t.true(account?.email_verified);
  t.is(await server.app.services.ledger.balance('person', sub), 25);
});

test('a person with a second factor must still use it after a federated sign-in', async (t) => {
  const { server, google, config, signInPage } = await federationSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('sam@example.com');
  const { totp } = server.app.services;
  const enrollment = await totp.beginEnrollment(account.id, 'sam@example.com');
  const first = await nextAppCode(enrollment.secret, -1, server.clock);
  t.is(await totp.confirmEnrollment(account.id, enrollment.pending, first.code), 'ok');
  google.state.person = { sub: 'google-sam', email: 'sam@example.com', email_verified: true };

  const signIn = await signInPage();
  const mfa = await continueWith(signIn.client, signIn, 'google');
  t.regex(mfa.url.pathname, /\/mfa$/);
  // No email code is offered as the second step: the upstream may well hold that mailbox.
  t.false(mfa.html.includes('/mfa/send-code'));
  const { code } = await nextAppCode(enrollment.secret, first.step, server.clock);
  const consent = await submit(signIn.client, mfa, '/mfa/totp', { code });
  const done = await submit(signIn.client, consent, '/confirm');
  const claims = await redeem(config, done.url, signIn.check);
  t.is(claims.sub, account.id);
  t.is(claims.acr, 'mfa');
  t.true((claims.amr as string[]).includes('fed'));
});

test('an upstream’s own claim of a second factor does not stand in for the person’s second factor here', async (t) => {
  const { server, google, config, signInPage } = await federationSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('kim@example.com');
  const { totp } = server.app.services;
  const enrollment = await totp.beginEnrollment(account.id, 'kim@example.com');
  const first = await nextAppCode(enrollment.secret, -1, server.clock);
  t.is(await totp.confirmEnrollment(account.id, enrollment.pending, first.code), 'ok');
  google.state.person = { sub: 'google-kim', email: 'kim@example.com', email_verified: true };
  // The upstream says it checked two factors: we cannot check that, so it changes nothing.
  google.rewriteClaims((claims) => ({ ...claims, amr: ['pwd', 'mfa'], acr: 'mfa' }));

  const signIn = await signInPage();
  const mfa = await continueWith(signIn.client, signIn, 'google');
  t.regex(mfa.url.pathname, /\/mfa$/);
  const { code } = await nextAppCode(enrollment.secret, first.step, server.clock);
  const done = await submit(signIn.client, await submit(signIn.client, mfa, '/mfa/totp', { code }), '/confirm');
  const claims = await redeem(config, done.url, signIn.check);
  t.is(claims.acr, 'mfa');
  t.deepEqual(claims.amr, ['fed', 'otp', 'mfa']);
});

test('the linking page sends a new code on request, after the resend wait, and only the newest code works', async (t) => {
  const { server, acme, config, signInPage } = await federationSetUp(t);
  const { account } = await server.app.services.accounts.signInWithVerifiedEmail('rey@example.com');
  acme.state.person = { sub: 'acme-rey', email: 'rey@example.com', email_verified: true };
  const signIn = await signInPage();
  const proof = await continueWith(signIn.client, signIn, 'acme');
  const firstCode = await latestCode(server.url, 'rey@example.com');

  const tooSoon = await submit(signIn.client, proof, '/federation/link/resend');
  t.is(tooSoon.response.status, 429);
  t.regex(tooSoon.html, /A code was just sent/);
  t.is((await outboxMessages(server.url)).length, 1);

  server.clock.advance(31);
  const resent = await submit(signIn.client, tooSoon, '/federation/link/resend');
  t.is(resent.response.status, 200);
  t.regex(resent.html, /We sent a new code\. Earlier codes no longer work\./);
  const secondCode = await latestCode(server.url, 'rey@example.com');
  t.is((await outboxMessages(server.url)).length, 2);

  if (firstCode !== secondCode) {
    const stale = await submit(signIn.client, resent, '/federation/link', { code: firstCode });
    t.is(stale.response.status, 400);
  }
  const consent = await submit(signIn.client, resent, '/federation/link', { code: secondCode });
  const done = await submit(signIn.client, consent, '/confirm');
  t.is((await redeem(config, done.url, signIn.check)).sub, account.id);
});
