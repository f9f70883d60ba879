import test from 'ava';
import { signedInAt } from '../../helpers/account-pages.ts';
import { callApi } from '../../helpers/api.ts';
import { waitForState } from '../../helpers/environments.ts';
import { readEvents, type ServerSentEvent } from '../../helpers/server-sent-events.ts';
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

rootTest(
  'the terminal page’s log stream words FairyID’s entries in the page’s language; the API’s stays English',
  async (t) => {
    const { server } = await startTerminalServer(t);
    const email = 'log-language@example.com';
    const environment = await runningEnvironment(server, email);
    const api = (path: string, method: string, body?: unknown) =>
      callApi(server, environment.token, method, `/api/environments/${environment.id}${path}`, body);
    t.is((await api('', 'PATCH', { name: 'Boîte à outils' })).status, 200);
    t.is((await api('/stop', 'POST')).status, 202);
    await waitForState(server, environment.token, environment.id, 'stopped');

    const page = `/account/environments/${environment.id}`;
    const { client } = await signedInAt(server, `${page}/terminal`, email);
    const stopped = (events: ServerSentEvent[]) => events.some((event) => event.data.kind === 'stopped');
    // What the page's EventSource sends: its session cookie and the browser's Accept-Language.
    const inFrench = await readEvents(
      server,
      { cookie: client.cookieHeader(`${page}/logs`), 'accept-language': 'fr-FR,fr;q=0.9' },
      `${page}/logs`,
      stopped,
    );
    t.is(inFrench.status, 200);
    const asApi = await readEvents(server, environment.token, `/api/environments/${environment.id}/logs`, stopped);
    t.deepEqual(
      inFrench.events.map((event) => event.id),
      asApi.events.map((event) => event.id),
      'the same entries',
    );

    const french = new Map(inFrench.events.map((event) => [event.id, event.data.message as string]));
    for (const event of asApi.events) {
      const said = french.get(event.id);
      if (event.data.kind === 'machine_output') t.is(said, event.data.message, 'the machine’s output as printed');
      else t.not(said, event.data.message, `${event.data.kind} is worded for the page: ${said}`);
    }
    const messages = [...french.values()];
    t.true(messages.some((message) => /^Demandé à partir du modèle Test box, taille \w+, région \S+$/.test(message)));
    t.true(messages.includes('Renommé de Terminal box en Boîte à outils'));
    t.true(messages.includes('Prêt\u202f: la machine a signalé la fin de cloud-init'));
    t.true(messages.includes('Arrêt demandé'));
    t.true(messages.includes('Arrêté\u202f: machine supprimée, volume conservé'));
    t.true(messages.some((message) => /^Machine démarrée à l’adresse \S+$/.test(message)));

    const english = asApi.events.map((event) => event.data.message as string);
    t.true(english.includes('Ready: the machine reported that cloud-init finished'), 'the API keeps the stored words');
    t.true(english.includes('Renamed from Terminal box to Boîte à outils'));
  },
);
