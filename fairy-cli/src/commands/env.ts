import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { Api } from '../api.ts';
import { CliError, EXIT } from '../exit-codes.ts';
import { emit, line, table, when } from '../output.ts';
import type { Run } from '../run.ts';
import type { Session } from '../session.ts';
import { openTerminal } from '../terminal.ts';
import { followLogs } from '../event-stream.ts';
import { type Environment, environmentId } from './environment-ref.ts';
import { organizationId } from './organization-ref.ts';

type Template = { id: string; name: string; description: string; default_tier: string; price_per_hour: number };
type Event = { kind: string; to_state: string | null; message: string | null; created_at: string };

export function envCommands(program: Command, run: Run) {
  const env = program.command('env').description('developer environments: create, start, stop, delete, logs, ssh');
  env.command('list', { isDefault: true }).description('yours and your organizations’ (the default)').action(run(list));
  env.command('templates').description('what environments are made from, with their price').action(run(templates));
  env
    .command('create')
    .description('create an environment from a template (it costs its hourly price in DUST while running)')
    .argument('<name>', 'a name of your choice')
    .requiredOption('--template <id>', 'a template id from fairy env templates')
    .option('--tier <tier>', 'free, starter or pro (default: the template’s)')
    .option('--region <region>', 'a region FairyID offers (default: its first)')
    .option('--org <org>', 'create it for an organization (slug or id), paid from its wallet')
    .option('--wait', 'wait until it is running (or failed)')
    .action(run(create));
  for (const [verb, description] of [
    ['start', 'start a stopped environment'],
    ['stop', 'stop an environment: its machine goes, its /home volume stays'],
  ] as const) {
    env
      .command(verb)
      .description(description)
      .argument('<env>', 'name or id')
      .option('--wait', `wait until it is ${verb === 'start' ? 'running' : 'stopped'}`)
      .action(
        run((session: Session, reference: string, options: { wait?: boolean }) =>
          transition(session, verb, reference, options),
        ),
      );
  }
  env
    .command('delete')
    .description('delete an environment: its machine, its volume and its key')
    .argument('<env>', 'name or id')
    .option('--wait', 'wait until it is deleted')
    .action(run(remove));
  env
    .command('logs')
    .description('the environment’s trail: provisioning steps, readiness, warnings, stops')
    .argument('<env>', 'name or id')
    .option('-f, --follow', 'keep printing new entries as they come (Ctrl-C to stop)')
    .action(run(logs));
  env
    .command('ssh')
    .description('a terminal in the environment through FairyID (tmux: it survives disconnects)')
    .argument('<env>', 'name or id')
    .option('--tmux <session>', 'the tmux session to attach to', 'main')
    .action(run(ssh));
}

function row(environment: Environment) {
  return [
    environment.name,
    environment.state,
    environment.template,
    environment.tier,
    `${environment.price_per_hour}/h`,
    environment.ssh ? `${environment.ssh.user}@${environment.ssh.host}:${environment.ssh.port}` : null,
    environment.id,
  ];
}

const HEADERS = ['NAME', 'STATE', 'TEMPLATE', 'TIER', 'DUST', 'SSH', 'ID'];

async function list(session: Session) {
  const environments = (await new Api(session).all<Environment>('/api/environments')).filter(
    (environment) => environment.state !== 'deleted',
  );
  emit(session.json, environments, () => {
    if (environments.length === 0) line('No environments yet: fairy env templates, then fairy env create.');
    table(HEADERS, environments.map(row));
  });
}

async function templates(session: Session) {
  const all = await new Api(session).all<Template>('/api/environment-templates');
  emit(session.json, all, () =>
    table(
      ['TEMPLATE', 'NAME', 'TIER', 'DUST', 'DESCRIPTION'],
      all.map((template) => [
        template.id,
        template.name,
        template.default_tier,
        `${template.price_per_hour}/h`,
        template.description,
      ]),
    ),
  );
}

/** Polls until the environment reaches `state`; `error` ends the wait with its reason. */
async function waitFor(api: Api, id: string, state: string, last?: Environment): Promise<Environment> {
  for (;;) {
    let environment: Environment;
    try {
      environment = await api.get<Environment>(`/api/environments/${id}`);
    } catch (error) {
      // A deleted environment is soon no longer shown at all.
      if (state === 'deleted' && last && error instanceof CliError && error.exitCode === EXIT.notFound) {
        return { ...last, state: 'deleted' };
      }
      throw error;
    }
    if (environment.state === state) return environment;
    if (environment.state === 'error') {
      throw new CliError(`${environment.name} failed: ${environment.last_error ?? 'no reason given'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function create(
  session: Session,
  name: string,
  options: { template: string; tier?: string; region?: string; org?: string; wait?: boolean },
) {
  const api = new Api(session);
  let environment = await api.request<Environment>('POST', '/api/environments', {
    body: {
      name,
      template: options.template,
      ...(options.tier ? { tier: options.tier } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.org ? { organization_id: await organizationId(api, options.org) } : {}),
    },
    // Creating spends DUST: a retried request must not create a second environment.
    headers: { 'idempotency-key': randomUUID() },
  });
  if (options.wait) environment = await waitFor(api, environment.id, 'running');
  emit(session.json, environment, () =>
    line(
      environment.state === 'running'
        ? `${environment.name} is running (${environment.id}): fairy env ssh ${environment.id}`
        : `Creating ${environment.name} (${environment.id}); follow it with fairy env logs -f ${environment.id}`,
    ),
  );
}

async function transition(session: Session, verb: 'start' | 'stop', reference: string, options: { wait?: boolean }) {
  const api = new Api(session);
  const id = await environmentId(api, reference);
  let environment = await api.request<Environment>('POST', `/api/environments/${id}/${verb}`);
  if (options.wait) environment = await waitFor(api, id, verb === 'start' ? 'running' : 'stopped');
  emit(session.json, environment, () => line(`${environment.name} is ${environment.state}.`));
}

async function remove(session: Session, reference: string, options: { wait?: boolean }) {
  const api = new Api(session);
  const id = await environmentId(api, reference);
  let environment = await api.request<Environment>('DELETE', `/api/environments/${id}`);
  if (options.wait) environment = await waitFor(api, id, 'deleted', environment);
  emit(session.json, environment, () => line(`${environment.name} is ${environment.state}.`));
}

function eventLine(event: { at: string; state: string | null; kind: string; message: string | null }) {
  return `${when(event.at)}  ${(event.state ?? '').padEnd(12)}  ${event.message ?? event.kind.replace(/_/g, ' ')}`;
}

async function logs(session: Session, reference: string, options: { follow?: boolean }) {
  const api = new Api(session);
  const id = await environmentId(api, reference);
  if (options.follow) {
    // One JSON object per line while following (NDJSON), so a script can read entries as they come.
    await followLogs(api, id, (event) => (session.json ? line(JSON.stringify(event)) : line(eventLine(event))));
  }
  const events = await api.all<Event>(`/api/environments/${id}/events`);
  if (session.json) {
    emit(true, events, () => {});
    return;
  }
  for (const event of events)
    line(eventLine({ at: event.created_at, state: event.to_state, kind: event.kind, message: event.message }));
}

async function ssh(session: Session, reference: string, options: { tmux: string }) {
  if (session.json) throw new CliError('fairy env ssh is a terminal; --json does not apply.', EXIT.usage);
  const api = new Api(session);
  const id = await environmentId(api, reference);
  process.exitCode = await openTerminal(api, id, options.tmux);
}
