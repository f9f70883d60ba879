import { defineMessages } from '../define-messages.ts';

/**
 * Every text message: short, because a text message is. A code's last line (`@host #code`) is an
 * origin-bound one-time code (https://wicg.github.io/sms-one-time-codes/) and stays as it is in every language.
 */
export const smsMessages = defineMessages({
  en: {
    'sms.signIn': '{code} is your FairyID sign-in code. It expires in {lifetime}. Do not share it.\n\n@{host} #{code}',
    'sms.identifierChange':
      '{code} is your code to add this phone number to your FairyID account. It expires in {lifetime}. Do not share it.\n\n@{host} #{code}',
    'sms.identifierChanged':
      'The phone number of your FairyID account was changed to {number}; this number no longer signs in to it. If you did not do this, sign in with your email and check your devices.',
    'sms.accountDeleted': 'Your FairyID account that signed in with this number was deleted. Not you? {link}',
  },
  fr: {
    'sms.signIn':
      '{code} est votre code de connexion FairyID. Il expire dans {lifetime}. Ne le communiquez à personne.\n\n@{host} #{code}',
    'sms.identifierChange':
      '{code} est votre code pour ajouter ce numéro de téléphone à votre compte FairyID. Il expire dans {lifetime}. Ne le communiquez à personne.\n\n@{host} #{code}',
    'sms.identifierChanged':
      'Le numéro de téléphone de votre compte FairyID a été remplacé par {number} ; ce numéro ne permet plus de vous y connecter. Si vous n’êtes pas à l’origine de ce changement, connectez-vous avec votre e-mail et vérifiez vos appareils.',
    'sms.accountDeleted':
      'Votre compte FairyID qui se connectait avec ce numéro a été supprimé. Ce n’était pas vous ? {link}',
  },
});
