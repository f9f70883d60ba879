import test from 'ava';
import { sql } from 'kysely';
import { latestCode } from '../helpers/outbox.ts';
import { startTestServer } from '../helpers/server.ts';
import { askForCode, finishAtRelyingParty, openSignInPage, submitCode } from '../helpers/sign-in-pages.ts';

test("a new person's account commits with its sign_in row: when the row cannot be written, no account is left without it", async (t) => {
  const server = await startTestServer(t);
  const { db } = server.app.services;
  // The trail refuses sign-in rows for a while, as a full disk or a lost connection would.
  await sql`create function refuse_sign_in() returns trigger language plpgsql as $$
    begin
      if new.event = 'sign_in' then raise exception 'no sign_in rows'; end if;
      return new;
    end $$`.execute(db);
  await sql`create trigger refuse_sign_in before insert on audit_events for each row execute function refuse_sign_in()`.execute(
    db,
  );
  const page = await openSignInPage(server);
  const codePage = await askForCode(page.client, page.html, 'nell@example.com');
  const refused = await submitCode(page.client, codePage.html, await latestCode(server.url, 'nell@example.com'));
  t.is(refused.response.status, 500);
  const accounts = () => db.selectFrom('accounts').select('id').where('email', '=', 'nell@example.com').execute();
  t.deepEqual(await accounts(), [], 'no account without its sign_in row');
  const events = await db.selectFrom('event_outbox').select('type').execute();
  t.false(
    events.some((event) => event.type === 'account.created'),
    'nor its account.created event',
  );

  // Once the trail takes rows again, the same person signs up, with one sign_in row and its event.
  await sql`drop trigger refuse_sign_in on audit_events`.execute(db);
  const again = await openSignInPage(server);
  const secondPage = await askForCode(again.client, again.html, 'nell@example.com');
  const right = await submitCode(again.client, secondPage.html, await latestCode(server.url, 'nell@example.com'));
  await finishAtRelyingParty(again, right.response);
  const [account] = await accounts();
  t.truthy(account);
  const rows = await server.app.services.audit.recentFor(account!.id);
  t.deepEqual(
    rows.filter((row) => row.event === 'sign_in').map((row) => row.detail),
    [{ method: 'email', created: true }],
  );
  const published = await db
    .selectFrom('event_outbox')
    .select('type')
    .where('subject', '=', `account:${account!.id}`)
    .execute();
  t.deepEqual(published.map((event) => event.type).sort(), ['account.created', 'account.signed_in', 'dust.credited']);
});
