import test from 'ava';
import { readEvents } from '../../helpers/server-sent-events.ts';
import { runningEnvironment, startTerminalServer } from '../../helpers/terminal-environment.ts';

const asRoot = process.getuid?.() === 0;
const rootTest = asRoot ? test.serial : test.skip;

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
