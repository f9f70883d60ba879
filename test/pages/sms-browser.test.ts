import * as oidc from 'openid-client';
import { browserTest } from '../helpers/browser.ts';
import { discover, pkcePair, registerClient } from '../helpers/relying-party.ts';
import { startTestServer } from '../helpers/server.ts';
import { startTwilioStandIn } from '../helpers/twilio-stand-in.ts';
import { checkPage, VIEWPORTS, watchComplaints, type Viewport } from '../helpers/viewport-pages.ts';

const PHONE = '+14155552671';

for (const viewport of Object.keys(VIEWPORTS) as Viewport[]) {
  browserTest(`a person signs in with a texted code in a real browser (${viewport} screen)`, async (t) => {
    const twilio = await startTwilioStandIn(t);
    const server = await startTestServer(t, { env: twilio.env });
    const redirectUri = `${server.url}/dev/callback`;
    const { clientId, clientSecret } = await registerClient(server.app, {
      name: 'Pixie Notes',
      redirectUris: [redirectUri],
    });
    const config = await discover(server.url, clientId, clientSecret);
    const { verifier, challenge } = await pkcePair();
    const state = oidc.randomState();
    const authorizationUrl = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid phone',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
    });

    const page = await VIEWPORTS[viewport].open(t);
    const complaints = watchComplaints(page);
    await page.goto(authorizationUrl.href);
    const field = page.getByLabel('Email address or phone number');
    t.true(await field.isVisible());
    t.is(await field.getAttribute('autocomplete'), 'username webauthn');
    await checkPage(t, page, viewport, 'sms-login', 'Sign in');

    await field.fill('415 555 2671');
    await page.getByRole('button', { name: 'Send me a code' }).click();
    t.true(
      await page
        .getByRole('alert')
        .filter({ hasText: 'Start the phone number with + and its country code' })
        .isVisible(),
    );
    t.is(
      await page.getByLabel('Email address or phone number').inputValue(),
      '415 555 2671',
      'what was typed stays to be fixed',
    );
    await checkPage(t, page, viewport, 'sms-invalid-number', 'Sign in');
    t.deepEqual(twilio.messages, []);

    await page.getByLabel('Email address or phone number').fill('+1 (415) 555-2671');
    await page.getByRole('button', { name: 'Send me a code' }).click();
    await page.waitForURL(/\/interaction\/[^/]+\/code$/);
    t.true(await page.getByText('We texted a 6-digit code to +1 415 555 2671').isVisible());
    await checkPage(t, page, viewport, 'sms-code', 'Check your phone');

    await page.getByLabel('Sign-in code').fill(twilio.latestCode(PHONE));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    t.true(await page.getByText('Signed in as +1 415 555 2671').isVisible());
    await checkPage(t, page, viewport, 'sms-consent', 'Allow access?');

    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((url) => url.pathname === '/dev/callback');
    const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
      pkceCodeVerifier: verifier,
      expectedState: state,
    });
    t.deepEqual(tokens.claims()!.amr, ['sms']);
    t.is(tokens.claims()!.acr, '1fa');
    t.deepEqual(complaints, []);
  });
}

browserTest('a text that cannot be sent shows a clear page in a real browser', async (t) => {
  const twilio = await startTwilioStandIn(t);
  const server = await startTestServer(t, { env: twilio.env });
  const { clientId, clientSecret } = await registerClient(server.app, { redirectUris: [`${server.url}/dev/callback`] });
  const config = await discover(server.url, clientId, clientSecret);
  const { challenge } = await pkcePair();
  const authorizationUrl = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${server.url}/dev/callback`,
    scope: 'openid',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  twilio.failWith({ status: 503, unavailable: true });

  for (const viewport of Object.keys(VIEWPORTS) as Viewport[]) {
    const page = await VIEWPORTS[viewport].open(t);
    const complaints = watchComplaints(page);
    await page.goto(authorizationUrl.href);
    await page.getByLabel('Email address or phone number').fill(PHONE);
    await page.getByRole('button', { name: 'Send me a code' }).click();
    t.true(
      await page.getByRole('alert').filter({ hasText: 'We could not send the text message just now.' }).isVisible(),
    );
    await checkPage(t, page, viewport, 'sms-send-failed', 'Sign in');
    t.deepEqual(complaints, []);
  }
});
