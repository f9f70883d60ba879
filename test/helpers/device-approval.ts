import type * as oidc from 'openid-client';
import { readForm } from './html-form.ts';
import type { PageClient } from './page-client.ts';
import type { TestServer } from './server.ts';
import { signInThroughPages } from './sign-in.ts';

/** Opens the verification URI with the code filled in, as scanning the QR code on a TV does. */
export async function openCompleteVerificationUri(browser: PageClient, device: oidc.DeviceAuthorizationResponse) {
  const response = await browser.request(device.verification_uri_complete!);
  // oidc-provider answers with a self-submitting form; a browser without JavaScript presses Continue.
  const autoSubmit = readForm(await response.text());
  return browser.request(autoSubmit.action, { form: autoSubmit.fields });
}

/** Presses one of the two buttons on the device-confirm page (both submit op.deviceConfirmForm). */
export async function answerConfirmPage(browser: PageClient, confirmPage: Response, answer: 'yes' | 'deny') {
  const form = readForm(await confirmPage.text(), 'op.deviceConfirmForm');
  const fields = answer === 'deny' ? { ...form.fields, abort: 'yes' } : form.fields;
  return browser.follow(form.action, { form: fields });
}

/** After "Yes, it is my device": sign in with an emailed code and allow the scopes. */
export async function confirmAndSignIn(server: TestServer, browser: PageClient, confirmPage: Response, email: string) {
  const { url } = await answerConfirmPage(browser, confirmPage, 'yes');
  if (!url.pathname.startsWith('/interaction/'))
    throw new Error(`confirming the device led to ${url.href}, not to sign-in`);
  return signInThroughPages(server.url, url.href, email, { client: browser });
}
