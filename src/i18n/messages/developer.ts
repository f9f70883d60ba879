import { defineMessages } from '../define-messages.ts';

/** The account's developer page: becoming a builder, registering apps, their secrets. */
export const developerMessages = defineMessages({
  en: {
    'developer.builderLead':
      'You are a <strong>builder</strong>: you register apps that sign people in with FairyID, and apps that call its API. Apps that ask for the <code>builder</code> scope learn that you are one.',
    'developer.notBuilderLead':
      'Build apps that sign people in with FairyID: become a builder to register your own, without an organization.',
    'developer.becomeBuilder': 'Become a builder',
    'developer.stopBuilder': 'Stop being a builder',
    'developer.yourApps': 'Your apps',
    'developer.appCount': {
      one: '{count} of {limit} apps. Only you can see it.',
      other: '{count} of {limit} apps. Only you can see them.',
    },
    'developer.noApps': 'You have not registered an app.',
    'developer.kind': 'Kind',
    'developer.clientId': 'Client ID',
    'developer.clientSecret': 'Client secret',
    'developer.redirectUris': 'Redirect URIs',
    'developer.newSecretTitle': 'New secret',
    'developer.newSecretFor': 'New secret for {app}',
    'developer.delete': 'Delete',
    'developer.deleteApp': 'Delete {app}',
    'developer.registerTitle': 'Register an app',
    'developer.redirectHint':
      'One per line, for web, single-page and native apps: <code>https://</code>, or <code>http://</code> on 127.0.0.1, [::1] or localhost only. Pages at these addresses may call the API from the browser.',
    'developer.signOutUris': 'Sign-out redirect URIs (optional)',
    'developer.scopes': 'Scopes (optional)',
    'developer.scopesHint': 'The scopes the app may ask for, separated by spaces. Leave empty for any.',
    'developer.register': 'Register',
    'developer.registeredTitle': 'App registered',
    'developer.registered': '<strong>{app}</strong> is registered.',
    'developer.newSecretLead': '<strong>{app}</strong> has a new secret: the old one no longer works.',
    'developer.storeSecret':
      'Store the secret now, on your app’s server: FairyID keeps only a hash of it and <strong>cannot show it again</strong>. If you lose it, make a new one.',
    'developer.publicNoSecret': 'A public app has no secret: PKCE protects its sign-ins.',
    'developer.done': 'Done',
  },
  fr: {
    'developer.builderLead':
      'Vous êtes <strong>builder</strong>\u202f: vous enregistrez des applications qui connectent des personnes avec FairyID, et des applications qui appellent son API. Les applications qui demandent le scope <code>builder</code> l’apprennent.',
    'developer.notBuilderLead':
      'Créez des applications qui connectent des personnes avec FairyID\u202f: devenez builder pour enregistrer les vôtres, sans organisation.',
    'developer.becomeBuilder': 'Devenir builder',
    'developer.stopBuilder': 'Ne plus être builder',
    'developer.yourApps': 'Vos applications',
    'developer.appCount': {
      one: '{count} application sur {limit}. Elle n’est visible que par vous.',
      other: '{count} applications sur {limit}. Elles ne sont visibles que par vous.',
    },
    'developer.noApps': 'Vous n’avez enregistré aucune application.',
    'developer.kind': 'Type',
    'developer.clientId': 'Identifiant client',
    'developer.clientSecret': 'Secret client',
    'developer.redirectUris': 'URI de redirection',
    'developer.newSecretTitle': 'Nouveau secret',
    'developer.newSecretFor': 'Nouveau secret pour {app}',
    'developer.delete': 'Supprimer',
    'developer.deleteApp': 'Supprimer {app}',
    'developer.registerTitle': 'Enregistrer une application',
    'developer.redirectHint':
      'Une par ligne, pour les applications web, monopages et natives\u202f: <code>https://</code>, ou <code>http://</code> uniquement sur 127.0.0.1, [::1] ou localhost. Les pages à ces adresses peuvent appeler l’API depuis le navigateur.',
    'developer.signOutUris': 'URI de redirection après déconnexion (facultatif)',
    'developer.scopes': 'Scopes (facultatif)',
    'developer.scopesHint':
      'Les scopes que l’application peut demander, séparés par des espaces. Laissez vide pour les autoriser tous.',
    'developer.register': 'Enregistrer',
    'developer.registeredTitle': 'Application enregistrée',
    'developer.registered': '<strong>{app}</strong> est enregistrée.',
    'developer.newSecretLead': '<strong>{app}</strong> a un nouveau secret\u202f: l’ancien ne fonctionne plus.',
    'developer.storeSecret':
      'Conservez ce secret dès maintenant, sur le serveur de votre application\u202f: FairyID n’en garde qu’une empreinte et <strong>ne pourra plus l’afficher</strong>. Si vous le perdez, générez-en un nouveau.',
    'developer.publicNoSecret': 'Une application publique n’a pas de secret\u202f: PKCE protège ses connexions.',
    'developer.done': 'Terminé',
  },
});
