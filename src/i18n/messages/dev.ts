import { defineMessages } from '../define-messages.ts';

/** The development server's stand-in application pages (`npm start`). */
export const devMessages = defineMessages({
  en: {
    'dev.callbackTitle': 'Signed in: demo callback',
    'dev.callbackFailedTitle': 'Sign-in did not finish: demo callback',
    'dev.providerAnswered': 'The provider answered <code>{error}</code>: {description}',
    'dev.standsInError': 'This page stands in for an application, which would now show its own message.',
    'dev.standsIn': 'This page stands in for an application. FairyID sent it this authorization code:',
    'dev.exchange':
      'Exchange it within a minute with the <code>curl</code> line printed in the terminal where you ran <code>npm start</code>, replacing <code>CODE</code> with the code above.',
    'dev.signedOutTitle': 'Signed out: demo app',
    'dev.signedOutLead':
      'This page stands in for an application after it signed you out through FairyID (RP-initiated logout).',
    'dev.cameBackWith': 'It came back with <code>state={state}</code>.',
    'dev.goToFairyId': 'Go to FairyID',
  },
  fr: {
    'dev.callbackTitle': 'Connexion réussie\u202f: retour de démonstration',
    'dev.callbackFailedTitle': 'Connexion inachevée\u202f: retour de démonstration',
    'dev.providerAnswered': 'Le fournisseur a répondu <code>{error}</code>\u202f: {description}',
    'dev.standsInError': 'Cette page tient lieu d’application, qui afficherait maintenant son propre message.',
    'dev.standsIn': 'Cette page tient lieu d’application. FairyID lui a envoyé ce code d’autorisation\u202f:',
    'dev.exchange':
      'Échangez-le dans la minute avec la ligne <code>curl</code> affichée dans le terminal où vous avez lancé <code>npm start</code>, en remplaçant <code>CODE</code> par le code ci-dessus.',
    'dev.signedOutTitle': 'Déconnexion\u202f: application de démonstration',
    'dev.signedOutLead':
      'Cette page tient lieu d’application, après la fermeture de votre session via FairyID (déconnexion initiée par l’application).',
    'dev.cameBackWith': 'Elle est revenue avec <code>state={state}</code>.',
    'dev.goToFairyId': 'Aller sur FairyID',
  },
});
