import type { Command } from 'commander';
import { Api } from '../api.ts';
import { emit, line, table } from '../output.ts';
import type { Run } from '../run.ts';
import type { Session } from '../session.ts';

type Me = {
  id: string;
  fairyname: string;
  name: string | null;
  email: string | null;
  phone_number: string | null;
  memberships: Array<{ id: string; slug: string; name: string; status: string; role: string }>;
};

export function whoamiCommand(program: Command, run: Run) {
  program.command('whoami').description('who you are logged in as, and your organizations').action(run(whoami));
}

async function whoami(session: Session) {
  const me = await new Api(session).get<Me>('/api/me');
  const issuer = await session.issuer();
  emit(session.json, { issuer, ...me }, () => {
    const contact = [me.name, me.email && `<${me.email}>`].filter(Boolean).join(' ');
    line(`${me.fairyname}${contact ? ` (${contact})` : ''} at ${issuer}`);
    if (me.phone_number) line(`phone: ${me.phone_number}`);
    line(`account id: ${me.id}`);
    if (me.memberships.length === 0) return;
    line();
    table(
      ['ORGANIZATION', 'NAME', 'ROLE', 'STATUS'],
      me.memberships.map((org) => [org.slug, org.name, org.role, org.status]),
    );
  });
}
