import { until } from './machines.ts';
import type { TestServer } from './server.ts';

export type ServerSentEvent = { id: string; data: Record<string, any> };

/**
 * Reads Server-Sent Events from `path` until `enough` says so, then hangs up. `caller` is a bearer
 * token, or the headers a page's script would send (its session cookie, its Accept-Language).
 */
export async function readEvents(
  server: TestServer,
  caller: string | Record<string, string>,
  path: string,
  enough: (events: ServerSentEvent[]) => boolean,
  lastEventId?: string,
) {
  const controller = new AbortController();
  const credentials = typeof caller === 'string' ? { authorization: `Bearer ${caller}` } : caller;
  const response = await fetch(`${server.url}${path}`, {
    headers: { ...credentials, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    signal: controller.signal,
  });
  const events: ServerSentEvent[] = [];
  const contentType = response.headers.get('content-type');
  if (!response.body) throw new Error('no body');
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  await until(async () => {
    const { value, done } = await reader.read();
    if (done) return true;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id && data) events.push({ id, data: JSON.parse(data) });
    }
    return enough(events) || undefined;
  }, 'server-sent events');
  controller.abort();
  return { status: response.status, contentType, events };
}
