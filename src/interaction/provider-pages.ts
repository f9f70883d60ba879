import type { Context } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { Renderer } from '../http/render.ts';
import { setPageHeaders } from '../http/security-headers.ts';
import { csrfTokenFor } from '../http/csrf.ts';
import type { ProviderPages } from '../oidc/page-sources.ts';
import { reportWrongDeviceGuess } from '../verification/device-guess-limit.routes.ts';

const XSRF_FIELD = /name="xsrf" value="([^"]+)"/;

/**
 * The pages oidc-provider draws itself (device flow, logout, protocol errors), in our look. A user
 * code that matches nothing is a wrong guess: reported to verification/device-guess-limit.routes.ts,
 * which keeps it counted against the IP's budget and refuses further guesses once that is spent.
 */
export function createProviderPages(
  renderer: Renderer,
  deps: { accountLabel(accountId: string): Promise<string | undefined> },
): ProviderPages {
  // Koa's status is still its default 404 when oidc-provider calls a page source, so a page is 200
  // unless its caller says otherwise; renderError passes the status oidc-provider set for the error.
  const render = (ctx: KoaContextWithOIDC, view: string, data: Record<string, unknown>, status = 200) => {
    setPageHeaders(ctx);
    return renderer.render(ctx as unknown as Context, view, data, status);
  };

  return {
    async renderError(ctx, out) {
      await render(
        ctx,
        'error',
        {
          title: ERROR_TITLES.get(out.error) ?? 'This sign-in request cannot continue',
          message: humanError(out.error, out.error_description),
          reference: out.error,
          action: returnToApp(ctx, out.error),
        },
        ctx.status >= 400 ? ctx.status : 500,
      );
    },

    // A person who denied the device did nothing wrong: that page is a 200 with the outcome.
    // We draw our own labelled input instead of the library's unlabelled one; only its token is reused.
    async userCodeInputSource(ctx, form, _out, err) {
      if (err?.name === 'NotFoundError') reportWrongDeviceGuess(ctx.req);
      // Denying the device is a choice, not a mistake: a calm page of its own, not an error above the code.
      if (err?.name === 'AbortedError') {
        const clientId = ctx.oidc.entities.DeviceCode?.clientId;
        const client = clientId ? await ctx.oidc.provider.Client.find(clientId) : undefined;
        await render(ctx, 'device-denied', { clientName: client?.clientName });
        return;
      }
      const error = err ? deviceError(err) : undefined;
      await render(
        ctx,
        'device-input',
        {
          action: ctx.oidc.urlFor('code_verification'),
          xsrf: XSRF_FIELD.exec(form)?.[1] ?? '',
          error,
          // Every refusal here is about the code as typed (wrong, expired, used): it stands at the field.
          errorField: error && 'user_code',
          userCode: typeof ctx.oidc.params?.user_code === 'string' ? ctx.oidc.params.user_code : undefined,
        },
        err ? 400 : 200,
      );
    },

    // Which account the device will be signed in to, with a way to use another (device-account.routes.ts).
    async userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
      const accountId = ctx.oidc.session?.accountId;
      await render(ctx, 'device-confirm', {
        form,
        clientName: client.clientName ?? client.clientId,
        userCode,
        accountLabel: accountId ? await deps.accountLabel(accountId) : undefined,
        csrf: csrfTokenFor(ctx as unknown as Context),
      });
    },

    async deviceSuccessSource(ctx) {
      await render(ctx, 'device-success', { clientName: ctx.oidc.client?.clientName ?? 'the application' });
    },

    async logoutSource(ctx, form) {
      await render(ctx, 'logout', { form, clientName: ctx.oidc.client?.clientName });
    },

    async postLogoutSuccessSource(ctx) {
      await render(ctx, 'logged-out', { clientName: ctx.oidc.client?.clientName });
    },
  };
}

function deviceError(err: Error & { userCode?: string }) {
  if (err.userCode || err.name === 'NoCodeError' || err.name === 'NotFoundError') {
    return 'That code is not valid. Check the code on your device and try again.';
  }
  if (err.name === 'ExpiredError') return 'That code has expired. Start again on your device to get a new one.';
  if (err.name === 'AlreadyUsedError') return 'That code was already used. Start again on your device.';
  return 'We could not check that code. Please try again.';
}

const ERROR_TITLES = new Map([
  ['invalid_client', 'This app is not registered'],
  ['invalid_redirect_uri', 'This app’s return address is not registered'],
  ['access_denied', 'The sign-in was declined'],
]);

/**
 * "Return to ‹app›" only to an address the app registered as its home (client_uri): a redirect URI
 * that failed its check is never offered, and an unknown app has none.
 */
function returnToApp(ctx: KoaContextWithOIDC, error: string) {
  const client = ctx.oidc.client;
  if (!client?.clientUri || error === 'invalid_client' || !/^https?:\/\//.test(client.clientUri)) return undefined;
  return { href: client.clientUri, label: `Return to ${client.clientName ?? 'the app'}` };
}

function humanError(error: string, description?: string) {
  switch (error) {
    case 'invalid_client':
      return 'The application that sent you here is not registered with FairyID.';
    case 'invalid_redirect_uri':
      return 'The application asked to send you back to an address it has not registered, so we stopped here to protect you.';
    case 'access_denied':
      return 'The request was declined.';
    default:
      return description
        ? `The application sent a request we cannot accept: ${description}.`
        : 'The application sent a request we cannot accept.';
  }
}
