/**
 * What an app may show of itself on our sign-in and consent pages (OpenID Connect Dynamic Client
 * Registration 1.0 §2 / RFC 7591 §2): its logo, home page, privacy policy and terms. Each is a link
 * a person may follow, or an image their browser loads, from a page of ours.
 */
export const APP_LINK_FIELDS = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const;
export type AppLinkField = (typeof APP_LINK_FIELDS)[number];
export type AppLinks = Partial<Record<AppLinkField, string>>;

/**
 * Why `uri` may not be registered as `field`, or undefined when it may. https only (plain http only
 * in development, where apps run on localhost); never `javascript:` or `data:` (a link that runs
 * script, or an image that is not from the app's origin); no user name or password in it.
 */
export function appLinkProblem(field: AppLinkField, uri: string, options: { allowHttp: boolean }): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `${field}: ${uri} is not a URL`;
  }
  if (uri.length > 2000) return `${field}: must be at most 2000 characters`;
  if (url.protocol === 'http:' && !options.allowHttp) return `${field}: must use https`;
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `${field}: must be an https URL`;
  if (url.username || url.password) return `${field}: must not contain a user name or password`;
  return undefined;
}

/** The first problem among an app's links, if any. */
export function appLinksProblem(links: AppLinks, options: { allowHttp: boolean }): string | undefined {
  for (const field of APP_LINK_FIELDS) {
    const uri = links[field];
    if (uri === undefined) continue;
    const problem = appLinkProblem(field, uri, options);
    if (problem) return problem;
  }
  return undefined;
}
