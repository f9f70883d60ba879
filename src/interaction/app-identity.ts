import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { allowImagesFrom } from '../http/security-headers.ts';

/** What the sign-in and consent pages show of the app a person is signing in to. */
export type AppIdentity = {
  name: string;
  /** The registered logo_uri; the page's CSP then admits images from that origin alone. */
  logo?: string | undefined;
  /** The host of client_uri, the app's home page. */
  domain?: string | undefined;
  home?: string | undefined;
  policy?: string | undefined;
  terms?: string | undefined;
};

const stringField = (metadata: Record<string, unknown>, key: string) =>
  typeof metadata[key] === 'string' ? (metadata[key] as string) : undefined;

/**
 * The app's name, logo, domain and policy and terms links, from its registration (validated when it
 * was registered: https outside development, see oidc/app-links.ts). Showing the logo loosens this
 * one page's img-src by the logo's own origin, and nothing else: FairyID fetches nothing itself.
 */
export async function appIdentity(ctx: Context, provider: Provider, clientId: unknown): Promise<AppIdentity> {
  const client = await provider.Client.find(String(clientId));
  if (!client) return { name: 'the application' };
  const metadata = client.metadata() as Record<string, unknown>;
  const home = stringField(metadata, 'client_uri');
  const logo = stringField(metadata, 'logo_uri');
  let logoOrigin: string | undefined;
  try {
    logoOrigin = logo ? new URL(logo).origin : undefined;
  } catch {
    logoOrigin = undefined;
  }
  if (logoOrigin && logoOrigin !== 'null') allowImagesFrom(ctx, logoOrigin);
  let domain: string | undefined;
  try {
    domain = home ? new URL(home).host : undefined;
  } catch {
    domain = undefined;
  }
  return {
    name: client.clientName ?? 'the application',
    logo: logoOrigin ? logo : undefined,
    domain,
    home: domain ? home : undefined,
    policy: stringField(metadata, 'policy_uri'),
    terms: stringField(metadata, 'tos_uri'),
  };
}
