import { PageClient, csrfToken, formAction } from './page-client.ts';
import { latestCode } from './outbox.ts';

/**
 * Signs `email` in through the real hosted pages, starting at an authorization (or device) URL,
 * and returns where the provider finally sends the browser (the client's redirect_uri, usually).
 */
export async function signInThroughPages(
  baseUrl: string,
  startUrl: string,
  email: string,
  options: { client?: PageClient; consent?: boolean } = {},
) {
  const client = options.client ?? new PageClient(baseUrl);
  let { response, url } = await client.follow(startUrl);
  let html = await response.text();
  if (url.pathname.startsWith('/interaction/') && html.includes('/email"')) {
    ({ response, url } = await client.follow(formAction(html, '/email'), { form: { _csrf: csrfToken(html), email } }));
    html = await response.text();
    const code = await latestCode(baseUrl, email);
    ({ response, url } = await client.follow(formAction(html, '/code'), { form: { _csrf: csrfToken(html), code } }));
    html = await response.text();
  }
  if (url.pathname.startsWith('/interaction/') && html.includes('/confirm"') && options.consent !== false) {
    ({ response, url } = await client.follow(formAction(html, '/confirm'), { form: { _csrf: csrfToken(html) } }));
    html = await response.text();
  }
  return { url, response, html, client };
}
