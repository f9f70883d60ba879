import { defineMessages } from '../define-messages.ts';

/** The home page at `/`. */
export const homeMessages = defineMessages({
  en: {
    'home.title': 'Welcome to FairyID',
    'home.lead':
      'FairyID signs you in to apps without a password: with a code sent to your email address or phone, or with a passkey.',
    'home.goToAccount': 'Go to your account',
    'home.signOut': 'Sign out',
    'home.firstTime': 'Signing in for the first time creates your account.',
    'home.forDevelopers': 'For developers',
    'home.apiReference': 'The API reference',
    'home.openidConfiguration': 'The OpenID configuration',
  },
  fr: {
    'home.title': 'Bienvenue sur FairyID',
    'home.lead':
      'FairyID vous connecte aux applications sans mot de passe\u202f: avec un code envoyé à votre adresse e-mail ou sur votre téléphone, ou avec une clé d’accès.',
    'home.goToAccount': 'Accéder à votre compte',
    'home.signOut': 'Se déconnecter',
    'home.firstTime': 'Votre compte est créé lors de votre première connexion.',
    'home.forDevelopers': 'Pour les développeurs',
    'home.apiReference': 'La référence de l’API',
    'home.openidConfiguration': 'La configuration OpenID',
  },
});
