import type { Command } from 'commander';
import { Api } from '../api.ts';
import { emit, line, table, when } from '../output.ts';
import type { Run } from '../run.ts';
import type { Session } from '../session.ts';
import { type Organization, organizationId } from './organization-ref.ts';

type Member = {
  account_id: string;
  email: string | null;
  fairyname: string;
  name: string | null;
  role: string;
  joined_at: string;
};
type Invitation = { id: string; email: string; role: string; expires_at: string };

const ROLES = ['owner', 'admin', 'member', 'billing'];

export function orgsCommands(program: Command, run: Run) {
  const orgs = program.command('orgs').description('your organizations, their members and invitations');
  orgs
    .command('list', { isDefault: true })
    .description('the organizations you belong to (the default)')
    .action(run(list));
  orgs
    .command('create')
    .description('create an organization; you become its owner')
    .argument('<slug>', 'its unique short name: lower-case letters, digits and dashes')
    .option('--name <name>', 'its display name (default: the slug)')
    .action(run(create));
  orgs
    .command('members')
    .description("an organization's members and their roles")
    .argument('<org>', 'slug or id')
    .action(run(members));
  orgs
    .command('invite')
    .description('invite someone by email; they get a link valid for 7 days')
    .argument('<org>', 'slug or id')
    .argument('<email>', 'where the invitation goes')
    .option('--role <role>', `one of ${ROLES.join(', ')}`, 'member')
    .action(run(invite));
}

async function list(session: Session) {
  const orgs = await new Api(session).all<Organization>('/api/organizations');
  emit(session.json, orgs, () => {
    if (orgs.length === 0) line('You belong to no organization yet: fairy orgs create <slug>.');
    table(
      ['SLUG', 'NAME', 'ROLE', 'STATUS', 'ID'],
      orgs.map((org) => [org.slug, org.name, org.role, org.status, org.id]),
    );
  });
}

async function create(session: Session, slug: string, options: { name?: string }) {
  const org = await new Api(session).request<Organization>('POST', '/api/organizations', {
    body: { slug, name: options.name ?? slug },
  });
  emit(session.json, org, () => {
    line(`Created ${org.slug} (${org.name}); you are its owner.`);
    if (org.status === 'pending') line('It is pending until the platform owner approves it.');
  });
}

async function members(session: Session, reference: string) {
  const api = new Api(session);
  const people = await api.all<Member>(`/api/organizations/${await organizationId(api, reference)}/members`);
  emit(session.json, people, () =>
    table(
      ['FAIRYNAME', 'EMAIL', 'NAME', 'ROLE', 'JOINED'],
      people.map((member) => [member.fairyname, member.email, member.name, member.role, when(member.joined_at)]),
    ),
  );
}

async function invite(session: Session, reference: string, email: string, options: { role: string }) {
  const api = new Api(session);
  const invitation = await api.request<Invitation>(
    'POST',
    `/api/organizations/${await organizationId(api, reference)}/invitations`,
    { body: { email, role: options.role } },
  );
  emit(session.json, invitation, () =>
    line(`Invited ${invitation.email} as ${invitation.role}; the link works until ${when(invitation.expires_at)}.`),
  );
}
