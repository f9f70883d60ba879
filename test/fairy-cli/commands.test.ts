import test, { type ExecutionContext } from 'ava';
import { configHome, fairy, fairyEnv, loginWithCli } from '../helpers/fairy-cli.ts';
import { outboxMessages } from '../helpers/outbox.ts';
import { startTestServer } from '../helpers/server.ts';

async function loggedIn(t: ExecutionContext, email: string) {
  const server = await startTestServer(t, { env: { ORG_APPROVAL: 'auto' } });
  const home = await configHome(t);
  const env = fairyEnv(home, server);
  await loginWithCli(server, env, email);
  return { server, env };
}

test('whoami, orgs and dust print what FairyID holds, as tables and as JSON', async (t) => {
  const { server, env } = await loggedIn(t, 'builder@example.com');
  const run = async (...args: string[]) => {
    const result = await fairy(args, env);
    t.is(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  const me = JSON.parse(await run('whoami', '--json'));
  t.is(me.email, 'builder@example.com');
  t.is(me.issuer, server.url);
  t.regex(me.fairyname, /^[a-z]+_[a-z]+_\d{4}$/);
  t.is(await run('whoami'), `${me.fairyname} (<builder@example.com>) at ${server.url}\naccount id: ${me.id}\n`);

  t.is(await run('orgs'), 'You belong to no organization yet: fairy orgs create <slug>.\n');
  t.deepEqual(JSON.parse(await run('orgs', 'list', '--json')), []);
  t.is(
    await run('orgs', 'create', 'pixie-works', '--name', 'Pixie Works'),
    'Created pixie-works (Pixie Works); you are its owner.\n',
  );
  const [org] = JSON.parse(await run('orgs', '--json'));
  t.like(org, { slug: 'pixie-works', name: 'Pixie Works', role: 'owner', status: 'active' });
  t.is(
    await run('orgs'),
    `SLUG         NAME         ROLE   STATUS  ID\npixie-works  Pixie Works  owner  active  ${org.id}\n`,
  );
  t.regex(await run('whoami'), /\nORGANIZATION\s+NAME\s+ROLE\s+STATUS\npixie-works\s+Pixie Works\s+owner\s+active\n$/);

  const members = await run('orgs', 'members', 'pixie-works');
  t.regex(
    members,
    new RegExp(
      `^FAIRYNAME\\s+EMAIL\\s+NAME\\s+ROLE\\s+JOINED\\n${me.fairyname}\\s+builder@example.com\\s+-\\s+owner\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\n$`,
    ),
  );
  t.like(JSON.parse(await run('orgs', 'members', org.id, '--json'))[0], { fairyname: me.fairyname, role: 'owner' });
  t.regex(
    await run('orgs', 'invite', 'pixie-works', 'friend@example.com', '--role', 'admin'),
    /^Invited friend@example\.com as admin; the link works until .+\.\n$/,
  );
  t.true(
    (await outboxMessages(server.url)).some((message) => message.to === 'friend@example.com'),
    'the invitation was sent',
  );

  t.is(await run('dust'), '25 DUST\n');
  t.deepEqual(JSON.parse(await run('dust', 'balance', '--json')), { balance: 25, currency: 'DUST' });
  t.deepEqual(JSON.parse(await run('dust', 'balance', '--org', 'pixie-works', '--json')), {
    balance: 0,
    currency: 'DUST',
  });
  t.regex(
    await run('dust', 'history'),
    /^WHEN\s+KIND\s+AMOUNT\s+DESCRIPTION\n\d{4}-\d\d-\d\d \d\d:\d\d\s+signup_grant\s+\+25\s+.+\n$/,
  );
  const [entry] = JSON.parse(await run('dust', 'history', '--json'));
  t.like(entry, { kind: 'signup_grant', amount: 25 });

  // CI: no stored login at all, only FAIRY_TOKEN.
  const token = (await run('auth', 'token')).trim();
  const ci = await fairy(['whoami', '--json'], { ...fairyEnv(await configHome(t), server), FAIRY_TOKEN: token });
  t.is(ci.code, 0, ci.stderr);
  t.is(JSON.parse(ci.stdout).email, 'builder@example.com');
});

test('exit codes tell scripts what went wrong', async (t) => {
  const { env } = await loggedIn(t, 'scripter@example.com');
  const expect = async (code: number, pattern: RegExp, ...args: string[]) => {
    const [first, ...rest] = args;
    // FAIRY_TOKEN=<value> as the first argument sets that variable for this run.
    const token = first?.startsWith('FAIRY_TOKEN=') ? first.slice('FAIRY_TOKEN='.length) : undefined;
    if (token !== undefined) args = rest;
    const result = await fairy(args, token === undefined ? env : { ...env, FAIRY_TOKEN: token });
    t.is(result.code, code, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, pattern, args.join(' '));
    t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
  };
  await expect(4, /^fairy: You belong to no organization "nowhere"; see fairy orgs\.\n$/, 'orgs', 'members', 'nowhere');
  await expect(4, /organization_not_found|not found/i, 'orgs', 'members', '00000000-0000-4000-8000-000000000000');
  await expect(2, /too many arguments for 'list'/, 'orgs', 'frobnicate');
  await expect(2, /unknown command 'frobnicate'/, 'frobnicate');
  await expect(2, /missing required argument 'slug'/, 'orgs', 'create');
  await expect(2, /^fairy: --limit is a number from 1 to 100\.\n$/, 'dust', 'history', '--limit', '0');
  await expect(2, /\(invalid_request\)/, 'orgs', 'create', 'Not A Slug');
  await expect(
    3,
    /^fairy: Not logged in to .+ as someone_else\. Run `fairy auth login --issuer .+`\.\n$/,
    'whoami',
    '--account',
    'someone_else',
  );
  await expect(
    3,
    /^fairy: FairyID refused the login: .*invalid_token.*Run `fairy auth login`\.\n$/,
    'FAIRY_TOKEN=not-a-token',
    'whoami',
  );
});
