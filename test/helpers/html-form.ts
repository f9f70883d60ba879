export type HtmlForm = { action: string; fields: Record<string, string> };

/**
 * The action and hidden fields of a form on a page, found by its id (oidc-provider names its own
 * forms, e.g. op.deviceConfirmForm) or, without an id, the first form. Enough for the flat, static
 * forms oidc-provider renders; not a general HTML parser.
 */
export function readForm(html: string, id?: string): HtmlForm {
  const opening = id ? new RegExp(`<form\\b[^>]*\\bid="${escapeRegExp(id)}"[^>]*>`) : /<form\b[^>]*>/;
  const start = opening.exec(html);
  if (!start) throw new Error(id ? `no form with id ${id} on the page` : 'no form on the page');
  const end = html.indexOf('</form>', start.index);
  const body = html.slice(start.index + start[0].length, end === -1 ? undefined : end);
  const action = /\baction="([^"]*)"/.exec(start[0])?.[1];
  if (action === undefined) throw new Error('the form has no action');

  const fields: Record<string, string> = {};
  for (const [input] of body.matchAll(/<input\b[^>]*>/g)) {
    if (!/\btype="hidden"/.test(input)) continue;
    const name = /\bname="([^"]*)"/.exec(input)?.[1];
    if (name) fields[name] = decodeEntities(/\bvalue="([^"]*)"/.exec(input)?.[1] ?? '');
  }
  return { action: decodeEntities(action), fields };
}

function decodeEntities(value: string) {
  return value
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&#x27;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function escapeRegExp(value: string) {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
