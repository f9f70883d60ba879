import test from 'ava';
import { sql } from 'kysely';
import { migratedDatabase } from '../helpers/migrated-database.ts';

test('the audit trail admits blanking a row’s IP, browser and detail, and no other change', async (t) => {
  const db = await migratedDatabase(t);
  await db
    .insertInto('audit_events')
    .values({
      event: 'sign_in',
      outcome: 'success',
      account_id: 'someone',
      client_id: 'app',
      ip: '203.0.113.7',
      user_agent: 'Firefox',
      detail: JSON.stringify({ method: 'email' }),
    })
    .execute();
  const attempts = [
    sql`update audit_events set event = 'sign_out'`,
    sql`update audit_events set outcome = 'failure', ip = null, user_agent = null, detail = null`,
    sql`update audit_events set account_id = 'someone-else', ip = null, user_agent = null, detail = null`,
    sql`update audit_events set client_id = null, ip = null, user_agent = null, detail = null`,
    sql`update audit_events set created_at = now() - interval '1 day', ip = null, user_agent = null, detail = null`,
    sql`update audit_events set ip = '198.51.100.1'`,
    sql`update audit_events set ip = null`,
    sql`update audit_events set ip = null, user_agent = null`,
    sql`update audit_events set detail = '{"forged": true}', ip = null, user_agent = null`,
    sql`delete from audit_events`,
  ];
  for (const attempt of attempts) await t.throwsAsync(attempt.execute(db), { message: /append-only/ });
  const untouched = await db.selectFrom('audit_events').selectAll().executeTakeFirstOrThrow();
  t.like(untouched, { event: 'sign_in', ip: '203.0.113.7', user_agent: 'Firefox', detail: { method: 'email' } });

  await sql`update audit_events set ip = null, user_agent = null, detail = null`.execute(db);
  const erased = await db.selectFrom('audit_events').selectAll().executeTakeFirstOrThrow();
  t.like(erased, { event: 'sign_in', outcome: 'success', account_id: 'someone', client_id: 'app' });
  t.is(erased.ip, null);
  t.is(erased.user_agent, null);
  t.is(erased.detail, null);
  t.deepEqual(erased.created_at, untouched.created_at);
});
