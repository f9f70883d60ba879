import { defineMessages } from '../define-messages.ts';

/** The consent page: what an app asks to do, for whom, and with whose DUST. */
export const consentMessages = defineMessages({
  en: {
    'consent.title': 'Allow access?',
    'consent.wouldLike': '<strong>{app}</strong> would like to:',
    'consent.spendsDust':
      '<strong>{app}</strong> will be able to spend your DUST. Every charge shows in your account history, and the app can only charge what you hold.',
    'consent.signedInAs': 'Signed in as <strong>{account}</strong>. Not you?',
    'consent.whichOrganization': 'Act for which organization?',
    'consent.noOrganization': 'You are not a member of any organization yet, so this app cannot act for one.',
    'consent.allow': 'Allow',
    'consent.deny': 'Deny',
  },
  fr: {
    'consent.title': 'Autoriser l’accès\u202f?',
    'consent.wouldLike': '<strong>{app}</strong> souhaite\u202f:',
    'consent.spendsDust':
      '<strong>{app}</strong> pourra dépenser vos DUST. Chaque débit apparaît dans l’historique de votre compte, et l’application ne peut débiter que ce que vous détenez.',
    'consent.signedInAs': 'Compte connecté\u202f: <strong>{account}</strong>. Ce n’est pas vous\u202f?',
    'consent.whichOrganization': 'Agir pour quelle organisation\u202f?',
    'consent.noOrganization':
      'Vous n’êtes encore membre d’aucune organisation\u202f: cette application ne peut donc agir pour aucune.',
    'consent.allow': 'Autoriser',
    'consent.deny': 'Refuser',
  },
});
