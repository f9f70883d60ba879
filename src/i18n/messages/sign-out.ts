import { defineMessages } from '../define-messages.ts';

/** Signing out (RP-initiated logout): the question and what it did. */
export const signOutMessages = defineMessages({
  en: {
    'signOut.title': 'Sign out?',
    'signOut.question': 'Do you want to sign out of FairyID on this device?',
    'signOut.questionWithApp': 'Do you want to sign out of FairyID and <strong>{app}</strong> on this device?',
    'signOut.yes': 'Yes, sign me out',
    'signOut.no': 'No, stay signed in',
    'signOut.doneTitle': 'Signed out',
    'signOut.appDone':
      'You are signed out of <strong>{app}</strong>. You are still signed in to FairyID on this device.',
    'signOut.allDone':
      'You are signed out of FairyID on this device. Apps you signed in to with FairyID here can no longer use that sign-in.',
    'signOut.signInAgain': 'Sign in again',
  },
  fr: {
    'signOut.title': 'Se déconnecter\u202f?',
    'signOut.question': 'Voulez-vous vous déconnecter de FairyID sur cet appareil\u202f?',
    'signOut.questionWithApp':
      'Voulez-vous vous déconnecter de FairyID et de <strong>{app}</strong> sur cet appareil\u202f?',
    'signOut.yes': 'Oui, me déconnecter',
    'signOut.no': 'Non, garder ma session ouverte',
    'signOut.doneTitle': 'Déconnexion effectuée',
    'signOut.appDone':
      'Votre session sur <strong>{app}</strong> est fermée. Votre session FairyID reste ouverte sur cet appareil.',
    'signOut.allDone':
      'Votre session FairyID est fermée sur cet appareil. Les applications où vous avez utilisé FairyID ici pour vous connecter ne peuvent plus utiliser cette connexion.',
    'signOut.signInAgain': 'Se reconnecter',
  },
});
