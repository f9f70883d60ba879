import { apiError, type Api, NetworkError } from './api.ts';
import { CliError } from './exit-codes.ts';

export type LogEvent = { kind: string; state: string | null; message: string | null; detail: unknown; at: string };

/**
 * Follows GET /api/environments/{id}/logs, FairyID's Server-Sent Events stream of the trail, until
 * the process is stopped. A dropped stream is opened again after the server's `retry` with
 * Last-Event-ID, so nothing is printed twice or skipped (the HTML Living Standard's EventSource
 * model, done by hand because Node has no EventSource that sends an Authorization header).
 */
export async function followLogs(api: Api, id: string, print: (event: LogEvent) => void): Promise<never> {
  let lastEventId: string | undefined;
  let retryMs = 2000;
  for (;;) {
    try {
      const url = await api.url(`/api/environments/${id}/logs`);
      let response: Response;
      try {
        response = await fetch(url, {
          headers: {
            authorization: await api.authorization(),
            accept: 'text/event-stream',
            ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
          },
        });
      } catch (error) {
        throw new NetworkError(`Cannot reach ${url.origin}: ${(error as Error).message}`);
      }
      if (!response.ok || !response.body) throw apiError(response.status, await response.text());
      let buffer = '';
      let data: string[] = [];
      let eventId: string | undefined;
      for await (const chunk of response.body.pipeThrough(new TextDecoderStream())) {
        buffer += chunk;
        let newline = buffer.search(/\r\n|\r|\n/);
        while (newline >= 0) {
          const field = buffer.slice(0, newline);
          buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
          newline = buffer.search(/\r\n|\r|\n/);
          if (field === '') {
            if (data.length > 0) {
              if (eventId !== undefined) lastEventId = eventId;
              print(JSON.parse(data.join('\n')) as LogEvent);
            }
            data = [];
            continue;
          }
          if (field.startsWith(':')) continue;
          const colon = field.indexOf(':');
          const name = colon < 0 ? field : field.slice(0, colon);
          const value = colon < 0 ? '' : field.slice(colon + 1).replace(/^ /, '');
          if (name === 'data') data.push(value);
          else if (name === 'id') eventId = value;
          else if (name === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
        }
      }
    } catch (error) {
      // Refusals (a missing environment, an ended login) end the command; a dropped network is retried.
      if (error instanceof CliError && !(error instanceof NetworkError)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
}
