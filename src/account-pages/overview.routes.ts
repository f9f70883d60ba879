import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountService } from '../accounts/account.service.ts';
import type { Account } from '../accounts/account.table.ts';
import { accountLabel } from '../accounts/account-label.ts';
import { formatPhoneNumber } from '../accounts/phone-number.ts';
import { TRANSACTION_KINDS, type TransactionKind } from '../ledger/ledger.table.ts';
import { NAME_MAX, parseProfile, PICTURE_URL_MAX, type Profile } from '../accounts/profile.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import type { Renderer } from '../http/render.ts';
import { requestOrigin } from '../http/request-origin.ts';
import { allowRemoteImages } from '../http/security-headers.ts';
import type { PageSession } from '../http/page-session.ts';
import type { LedgerService } from '../ledger/ledger.service.ts';
import { type Text, text } from '../i18n/translator.ts';

const PAGE = '/account';
const HISTORY_ROWS = 20;

const isLedgerKind = (kind: string): kind is TransactionKind => (TRANSACTION_KINDS as readonly string[]).includes(kind);

/** What the overview says after a change made elsewhere redirects back to it (`?saved=` / `?changed=`). */
const NOTICES: Record<string, (account: Account) => Text> = {
  profile: () => text('notices.profileSaved'),
  email: (account) => text('notices.nowSignInWith', { address: account.email ?? '' }),
  phone: (account) =>
    text('notices.nowSignInWith', {
      address: account.phone_number ? formatPhoneNumber(account.phone_number) : text('notices.yourNewNumber'),
    }),
};

type Deps = {
  accounts: AccountService;
  ledger: LedgerService;
  audit: AuditService;
  session: PageSession;
  renderer: Renderer;
};

/**
 * `/account`: the signed-in person's profile, sign-in addresses and DUST. Signing in goes through
 * our own pages client (see http/page-session.ts).
 */
export function accountPageRoutes(deps: Deps) {
  const router = new Router({ prefix: PAGE });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const renderPage = async (
    ctx: Context,
    account: Account,
    data: { notice?: Text | undefined; error?: Text; typed?: { name: string; picture: string } },
    status = 200,
  ) => {
    const [balance, history] = await Promise.all([
      deps.ledger.balance('person', account.id),
      deps.ledger.history('person', account.id, {}, { cursor: undefined, limit: HISTORY_ROWS }),
    ]);
    // Only an https picture is ever stored (accounts/profile.ts); the check stands again here because
    // this page's CSP is widened to https images for it and for nothing else.
    const picture = account.picture_url?.startsWith('https://') ? account.picture_url : undefined;
    if (picture) allowRemoteImages(ctx);
    const phone = account.phone_number ? formatPhoneNumber(account.phone_number) : undefined;
    await deps.renderer.render(
      ctx,
      'account',
      {
        account,
        signedInAs: accountLabel(account),
        // The console's own routes answer 404 to anyone else; the link is only a way in for its owners.
        platformOwner: await deps.accounts.isPlatformOwner(account.id),
        phone,
        picture,
        profile: data.typed ?? { name: account.name ?? '', picture: account.picture_url ?? '' },
        limits: { name: NAME_MAX, picture: PICTURE_URL_MAX },
        balance,
        history: history.map((entry) => ({
          label: isLedgerKind(entry.kind) ? text(`notices.ledger.${entry.kind}`) : entry.kind,
          description: entry.description,
          amount: entry.amount,
          date: entry.created_at.toISOString().slice(0, 10),
        })),
        notice: data.notice,
        error: data.error,
      },
      status,
    );
  };

  const signedInAccount = async (ctx: Context) => {
    const current = await deps.session.require(ctx, PAGE);
    const account = current && (await deps.accounts.findById(current.accountId));
    // A session whose account was deleted signs in afresh.
    if (current && !account) ctx.redirect(await deps.session.signInUrl(PAGE));
    return account;
  };

  router.get('/', async (ctx) => {
    const account = await signedInAccount(ctx);
    if (!account) return;
    const after = ctx.query.saved ?? ctx.query.changed;
    const notice = typeof after === 'string' ? NOTICES[after]?.(account) : undefined;
    await renderPage(ctx, account, { notice });
  });

  router.post('/profile', async (ctx) => {
    const account = await signedInAccount(ctx);
    if (!account) return;
    const form = ctx.request.body as Record<string, unknown>;
    const parsed = parseProfile(form);
    if (!parsed.ok) {
      const typed = {
        name: String(form.name ?? '').slice(0, 500),
        picture: String(form.picture ?? '').slice(0, PICTURE_URL_MAX + 100),
      };
      await renderPage(ctx, account, { error: parsed.error, typed }, 400);
      return;
    }
    const changed = changedFields(account, parsed.profile);
    if (changed.length) {
      await deps.accounts.updateProfile(account.id, parsed.profile);
      await deps.audit.record({
        event: 'profile_updated',
        outcome: 'success',
        origin: requestOrigin(ctx),
        accountId: account.id,
        detail: { changed },
      });
    }
    ctx.status = 303;
    ctx.redirect(`${PAGE}?saved=profile`);
  });

  return router.routes();
}

function changedFields(account: Account, profile: Profile): string[] {
  return [
    ...(account.name === profile.name ? [] : ['name']),
    ...(account.picture_url === profile.pictureUrl ? [] : ['picture']),
  ];
}
