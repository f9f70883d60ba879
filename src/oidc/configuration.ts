import { errors, type Adapter, type Configuration, type FindAccount, type KoaContextWithOIDC } from 'oidc-provider';
import type { JWK } from 'jose';
import type { Config } from '../config.ts';
import { API_SCOPES, createApiResource } from './api-resource.ts';
import { ACR_VALUES, buildInteractionPolicy } from './authentication-policy.ts';
import { originOf } from './cors-origins.ts';
import { DPOP_SIGNING_ALGS } from './dpop-proof.ts';
import type { ProviderPages } from './page-sources.ts';
import { isGraceReuse } from './refresh-grace.ts';
import { SUPPORTED_LOCALES } from '../i18n/locales.ts';
import { CookieSigner } from '../http/cookie-signer.ts';

export type ProviderDeps = {
  config: Config;
  adapter: (model: string) => Adapter;
  jwks: JWK[];
  findAccount: FindAccount;
  pages: ProviderPages;
  /** org_id and org_role for a grant with the `organization` scope; null once the person left it. */
  organizationClaims(grantId: string): Promise<{ org_id: string; org_role: string } | null | undefined>;
  /** Whether the person has a second factor, which every sign-in must then use. */
  requiresSecondFactor(accountId: string): Promise<boolean>;
  /** Whether this browser is remembered for the account, so an ordinary sign-in skips the second step. */
  secondStepRemembered(ctx: KoaContextWithOIDC, accountId: string): Promise<boolean>;
};

export const ORGANIZATION_SCOPE = 'organization';
/** An OpenID scope for apps that care whether the person registers apps of their own (src/builders/). */
export const BUILDER_SCOPE = 'builder';

const YEAR = 365 * 24 * 3600;

/** Every choice that differs from oidc-provider's default says why. */
export function buildConfiguration({
  config,
  adapter,
  jwks,
  findAccount,
  pages,
  organizationClaims,
  requiresSecondFactor,
  secondStepRemembered,
}: ProviderDeps): Configuration {
  const api = createApiResource(config.issuer, config.ttl.accessToken);
  return {
    adapter,
    findAccount,
    jwks: { keys: jwks as never },
    // Keygrip's format and key rotation, signed and checked at a third of Keygrip's cost (cookie-signer.ts).
    cookies: { keys: new CookieSigner(config.cookieKeys) },
    // Only the code flow (OAuth 2.0 Security BCP 2.1.2: no implicit or hybrid responses); `none`
    // issues nothing and exists for our own pages' client (see http/page-session.ts).
    responseTypes: ['code', 'none'],
    // Every client uses PKCE, confidential ones included (Security BCP 2.1.1); v9 accepts only S256.
    pkce: { required: () => true },
    // Secret-based methods plus public clients; JWT client auth is not offered until someone needs it.
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    // The sign-in pages speak every language we ship and follow the app's ui_locales (OIDC Discovery 3).
    discovery: { ui_locales_supported: [...SUPPORTED_LOCALES] },
    scopes: ['openid', 'offline_access', 'email', 'phone', 'profile', ORGANIZATION_SCOPE, BUILDER_SCOPE, ...API_SCOPES],
    claims: {
      // How and when the person signed in belongs in every ID token, not only when asked for.
      // org_id/org_role exist only for grants with the organization scope (find-account.ts), and
      // belong in the ID token then, so they ride with openid rather than with a userinfo-only scope.
      openid: ['sub', 'acr', 'amr', 'auth_time', 'org_id', 'org_role'],
      sid: null,
      email: ['email', 'email_verified'],
      phone: ['phone_number', 'phone_number_verified'],
      [ORGANIZATION_SCOPE]: ['org_id', 'org_role'],
      profile: ['name', 'preferred_username', 'picture', 'updated_at'],
      [BUILDER_SCOPE]: ['builder'],
    },
    extraClientMetadata: {
      properties: ['first_party', 'organization_id', 'owner_account_id'],
      validator(_ctx, key, value) {
        if (key === 'first_party' && value !== undefined && typeof value !== 'boolean') {
          throw new TypeError('first_party must be a boolean');
        }
        if (
          (key === 'organization_id' || key === 'owner_account_id') &&
          value !== undefined &&
          typeof value !== 'string'
        ) {
          throw new TypeError(`${key} must be a string`);
        }
      },
    },
    enabledJWA: {
      idTokenSigningAlgValues: ['RS256', 'ES256', 'EdDSA'],
      // oidc-provider's own default, spelled out because /api accepts the same list and announces it
      // in its DPoP challenge (RFC 9449 7.1): a key bound at the token endpoint can prove itself there.
      dPoPSigningAlgValues: [...DPOP_SIGNING_ALGS],
    },
    ttl: {
      AccessToken: config.ttl.accessToken,
      AuthorizationCode: 60,
      ClientCredentials: config.ttl.accessToken,
      DeviceCode: config.ttl.deviceCode,
      Grant: YEAR,
      IdToken: config.ttl.idToken,
      Interaction: config.ttl.interaction,
      RefreshToken: config.ttl.refreshToken,
      Session: config.ttl.session,
    },
    // Always rotate: reuse of a rotated token then revokes the whole grant (Security BCP 4.14.2), but
    // for the one grace reuse refresh-grace.ts answers with the successor it already issued.
    rotateRefreshToken: (ctx) => !isGraceReuse(ctx),
    // grant_id lets the /api guard refuse JWTs whose grant was revoked (see revoked-grants.ts);
    // org_id/org_role say which organization the token acts for. A person removed from that
    // organization gets no more tokens for it: the next refresh fails.
    extraTokenClaims: async (ctx, token) => {
      if (!('grantId' in token) || !token.grantId) return undefined;
      // The grant, not the token, holds OIDC scopes: an API token's own scope lists only API scopes.
      if (!grantsOrganization(ctx)) return { grant_id: token.grantId };
      const organization = await organizationClaims(token.grantId);
      if (organization === null)
        throw new errors.InvalidGrant('the person is no longer a member of the organization this grant is for');
      return { grant_id: token.grantId, ...organization };
    },
    // First-party clients are ours: the person already trusts them, so consent is implied.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client, session, provider } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId ?? (client && session?.grantIdFor(client.clientId));
      const existing = grantId ? await provider.Grant.find(grantId) : undefined;
      if (!client?.first_party || !session?.accountId) return existing;
      const requested = String(ctx.oidc.params?.scope ?? '')
        .split(' ')
        .filter(Boolean);
      // Even our own apps must let the person choose which organization they act for.
      const unbound =
        requested.includes(ORGANIZATION_SCOPE) && (!grantId || (await organizationClaims(grantId)) === undefined);
      if (unbound) return existing;
      const grant = existing ?? new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(requested.join(' '));
      for (const [indicator, server] of Object.entries(ctx.oidc.resourceServers ?? {})) {
        grant.addResourceScope(indicator, requested.filter((scope) => server.scopes.has(scope)).join(' '));
      }
      await grant.save();
      return grant;
    },
    // See authentication-policy.ts: 1fa, mfa, phr, honoured through acr_values and the mfa prompt.
    acrValues: [...ACR_VALUES],
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: buildInteractionPolicy(requiresSecondFactor, secondStepRemembered),
    },
    renderError: pages.renderError,
    // Which page may call the token, userinfo, revocation and introspection endpoints for this client
    // (only origins provider-cors.ts let through get this far): one of its redirect URIs' origins, or
    // CORS_ORIGINS. As oidc-provider's default, only public clients, and userinfo, are for browsers at
    // all: a confidential client's secret does not belong in a page.
    clientBasedCORS(ctx, origin, client) {
      if (origin === 'null') return false;
      if (ctx.oidc.route !== 'userinfo' && client.clientAuthMethod !== 'none') return false;
      return config.corsOrigins.includes(origin) || (client.redirectUris ?? []).some((uri) => originOf(uri) === origin);
    },
    // oidc-provider refuses outgoing requests (back-channel logout) to loopback and private
    // addresses against SSRF; BACKCHANNEL_PRIVATE_NETWORKS lifts that for apps on an internal network.
    ...(config.backchannelPrivateNetworks ? { fetch: fetchWithoutSsrfGuard } : {}),
    features: {
      // Our hosted pages replace the development-only login form.
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 7662 2.1 / RFC 7009 2.1: a client learns about, and revokes, only tokens issued to it.
      introspection: { enabled: true, allowedPolicy: issuedToCaller },
      revocation: { enabled: true, allowedPolicy: issuedToCaller },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: pages.userCodeInputSource,
        userCodeConfirmSource: pages.userCodeConfirmSource,
        successSource: pages.deviceSuccessSource,
      },
      // OIDC Back-Channel Logout 1.0: apps that register a backchannel_logout_uri learn of sign-outs here.
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: api.getResourceServerInfo,
        defaultResource: api.defaultResource,
        useGrantedResource: api.useGrantedResource,
      },
      // v9 turns DPoP and PAR on by default; both stay on because they only add protection a client
      // may opt into (sender-constrained tokens, request integrity) and cost nothing otherwise.
      dPoP: { enabled: true },
      pushedAuthorizationRequests: { enabled: true },
    },
  };
}

/** oidc-provider sets `dispatcher` to its SSRF-guarded agent before each request; this drops it. */
function fetchWithoutSsrfGuard(input: string | URL | Request, init: RequestInit & { dispatcher?: unknown } = {}) {
  const { dispatcher: _guarded, ...options } = init;
  return globalThis.fetch(input, options);
}

function issuedToCaller(_ctx: KoaContextWithOIDC, client: { clientId: string }, token: { clientId?: string }) {
  return token.clientId === client.clientId;
}

/** Whether the grant behind this request includes the organization scope. */
export function grantsOrganization(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.entities.Grant?.getOIDCScope().split(' ').includes(ORGANIZATION_SCOPE) ?? false;
}
