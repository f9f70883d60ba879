import { defineMessages } from '../define-messages.ts';

/** What every page shares: the layout's frame. */
export const commonMessages = defineMessages({
  en: {
    'common.brand': 'FairyID',
    'common.footer': 'Passwordless sign-in by FairyID',
    'common.signOut': 'Sign out',
    'common.titleSuffix': '{title} · FairyID',
  },
  fr: {
    'common.brand': 'FairyID',
    'common.footer': 'Connexion sans mot de passe par FairyID',
    'common.signOut': 'Se déconnecter',
    'common.titleSuffix': '{title} · FairyID',
  },
});
