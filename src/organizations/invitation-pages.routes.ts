import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import type { Context } from 'koa';
import type { AccountService } from '../accounts/account.service.ts';
import { csrfProtection } from '../http/csrf.ts';
import { type Text, text } from '../i18n/translator.ts';
import type { Renderer } from '../http/render.ts';
import type { PageSession } from '../http/page-session.ts';
import { InvitationUnusable, type InvitationProblem, type InvitationService } from './invitation.service.ts';

const ACCOUNT = { href: '/account', label: text('errors.goToAccount') };
const HOME = { href: '/', label: text('errors.goHome') };

/** What each problem is called, what the page says, and where it leads: a used invitation to the account. */
const PROBLEMS: Record<InvitationProblem, { title: Text; message: Text; action: typeof ACCOUNT }> = {
  unknown: problem('unknown', HOME),
  expired: problem('expired', HOME),
  accepted: problem('accepted', ACCOUNT),
  declined: problem('declined', ACCOUNT),
  revoked: problem('revoked', HOME),
  wrong_account: problem('wrong_account', ACCOUNT),
  already_member: problem('already_member', ACCOUNT),
};

function problem(name: InvitationProblem, action: typeof ACCOUNT) {
  return { title: text(`errors.invitation.${name}.title`), message: text(`errors.invitation.${name}.message`), action };
}

/** The page an invitation email links to: see the invitation, sign in as the invitee, accept or decline. */
export function invitationPageRoutes(deps: {
  invitations: InvitationService;
  accounts: AccountService;
  session: PageSession;
  renderer: Renderer;
}) {
  const router = new Router({ prefix: '/invitations/:token' });
  router.use(bodyParser({ enableTypes: ['form'], formLimit: '16kb' }), csrfProtection);

  const problemPage = (ctx: Context, error: unknown) => {
    if (!(error instanceof InvitationUnusable)) throw error;
    return deps.renderer.render(ctx, 'error', PROBLEMS[error.problem], error.problem === 'unknown' ? 404 : 410);
  };

  const signedInAccount = async (ctx: Context) => {
    const accountId = await deps.session.accountId(ctx);
    return accountId ? deps.accounts.findById(accountId) : undefined;
  };

  router.get('/', async (ctx) => {
    try {
      const { invitation, organization } = await deps.invitations.preview(String(ctx.params.token));
      const account = await signedInAccount(ctx);
      await deps.renderer.render(ctx, 'invitation', {
        token: ctx.params.token,
        organizationName: organization.name,
        role: invitation.role,
        email: invitation.email,
        signedInAs: account?.email ?? account?.fairyname,
        matches: account?.email === invitation.email && account.email_verified,
      });
    } catch (error) {
      await problemPage(ctx, error);
    }
  });

  router.post('/sign-in', async (ctx) => {
    try {
      const { invitation } = await deps.invitations.preview(String(ctx.params.token));
      ctx.status = 303;
      ctx.redirect(
        await deps.session.signInUrl(`/invitations/${ctx.params.token}`, {
          loginHint: invitation.email,
          forceLogin: true,
        }),
      );
    } catch (error) {
      await problemPage(ctx, error);
    }
  });

  for (const answer of ['accept', 'decline'] as const) {
    router.post(`/${answer}`, async (ctx) => {
      try {
        const account = await signedInAccount(ctx);
        if (!account) throw new InvitationUnusable('wrong_account');
        const { organization } = await deps.invitations.preview(String(ctx.params.token));
        await deps.invitations[answer](String(ctx.params.token), account);
        const message = text(`notices.invitation.${answer}.message`, { organization: organization.name });
        const title = text(`notices.invitation.${answer}.title`);
        await deps.renderer.render(ctx, 'invitation-answered', { title, message });
      } catch (error) {
        await problemPage(ctx, error);
      }
    });
  }

  return router.routes();
}
