import test from 'ava';
import { until } from '../../helpers/machines.ts';
import type { TestServer } from '../../helpers/server.ts';
import { runningEnvironment, startTerminalServer } from '../../helpers/terminal-environment.ts';

const asRoot = process.getuid?.() === 0;
const rootTest = asRoot ? test.serial : test.skip;

type ServerSentEvent = { id: string; data: Record<string, any> };

/** Reads Server-Sent Events from `path` until `enough` says so, then hangs up. */
async function readEvents(
  server: TestServer,
  token: string,
  path: string,
  enough: (events: ServerSentEvent[]) => boolean,
  lastEventId?: string,
) {
  const controller = new AbortController();
  const response = await fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
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

rootTest(
  'GET /api/environments/{id}/logs streams the provisioning trail as Server-Sent Events and resumes after Last-Event-ID',
  async (t) => {
    const { server } = await startTerminalServer(t);
    const environment = await runningEnvironment(server, 'logs@example.com');
    const path = `/api/environments/${environment.id}/logs`;
    const first = await readEvents(server, environment.token, path, (events) =>
      events.some((event) => event.data.kind === 'ready'),
    );
    t.is(first.status, 200);
    t.is(first.contentType, 'text/event-stream');
    const kinds = first.events.map((event) => event.data.kind);
    t.true(kinds.length >= 2, kinds.join(', '));
    t.true(kinds.includes('ready'));

    const after = first.events[0]!;
    const resumed = await readEvents(
      server,
      environment.token,
      path,
      (events) => events.length >= first.events.length - 1,
      after.id,
    );
    t.deepEqual(
      resumed.events.map((event) => event.id),
      first.events.slice(1).map((event) => event.id),
      'only what came after Last-Event-ID',
    );

    const stranger = await fetch(`${server.url}${path}`, { headers: { authorization: 'Bearer nonsense' } });
    t.is(stranger.status, 401);
  },
);
