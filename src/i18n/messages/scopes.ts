import { defineMessages } from '../define-messages.ts';

/** What each scope lets an app do, as the consent page and /account/apps say it (src/interaction/scope-descriptions.ts). */
export const scopeMessages = defineMessages({
  en: {
    'scopes.openid': 'Know who you are (your FairyID account identifier)',
    'scopes.profile': 'See your name, picture and fairyname',
    'scopes.email': 'See your email address',
    'scopes.phone': 'See your phone number',
    'scopes.offline_access': 'Stay connected when you are not using it',
    'scopes.builder': 'Know whether you build apps on FairyID',
    'scopes.organization': 'Act for the organization you choose below, with your role in it',
    'scopes.account:read': 'Read your FairyID account through the FairyID API',
    'scopes.organizations:read': 'See your organizations and their members',
    'scopes.organizations:write': 'Create and manage organizations and members on your behalf',
    'scopes.dust:read': 'See your DUST balance and history',
    'scopes.dust:spend': 'Spend your DUST in this app (every charge shows in your history)',
    'scopes.dust:manage': 'Move DUST between you and your organizations, and set what apps may spend',
    'scopes.environments:read': 'See your development environments and those of your organizations',
    'scopes.environments:write': 'Create, start, stop and delete development environments, which spend DUST',
    'scopes.environments:connect': 'Open terminals to your development environments and type commands in them',
    'scopes.provider_tokens':
      'Use your accounts at the sign-in providers you linked (GitHub, Google, …) on your behalf',
    'scopes.clients:read': 'See the apps you registered on FairyID',
    'scopes.clients:write': 'Register, change and delete apps in your name on FairyID, and replace their secrets',
    'scopes.platform:manage': 'Approve, reject and suspend organizations (platform owner only)',
  },
  fr: {
    'scopes.openid': 'Savoir qui vous êtes (l’identifiant de votre compte FairyID)',
    'scopes.profile': 'Voir votre nom, votre photo et votre fairyname',
    'scopes.email': 'Voir votre adresse e-mail',
    'scopes.phone': 'Voir votre numéro de téléphone',
    'scopes.offline_access': 'Rester connectée quand vous ne l’utilisez pas',
    'scopes.builder': 'Savoir si vous créez des applications sur FairyID',
    'scopes.organization': 'Agir pour l’organisation que vous choisissez ci-dessous, avec votre rôle dans celle-ci',
    'scopes.account:read': 'Lire votre compte FairyID via l’API FairyID',
    'scopes.organizations:read': 'Voir vos organisations et leurs membres',
    'scopes.organizations:write': 'Créer et gérer des organisations et leurs membres en votre nom',
    'scopes.dust:read': 'Voir votre solde et votre historique de DUST',
    'scopes.dust:spend': 'Dépenser vos DUST dans cette application (chaque dépense apparaît dans votre historique)',
    'scopes.dust:manage':
      'Transférer des DUST entre vous et vos organisations, et fixer ce que les applications peuvent dépenser',
    'scopes.environments:read': 'Voir vos environnements de développement et ceux de vos organisations',
    'scopes.environments:write':
      'Créer, démarrer, arrêter et supprimer des environnements de développement, qui dépensent des DUST',
    'scopes.environments:connect':
      'Ouvrir des terminaux sur vos environnements de développement et y taper des commandes',
    'scopes.provider_tokens':
      'Utiliser en votre nom vos comptes chez les fournisseurs de connexion que vous avez associés (GitHub, Google…)',
    'scopes.clients:read': 'Voir les applications que vous avez enregistrées sur FairyID',
    'scopes.clients:write':
      'Enregistrer, modifier et supprimer des applications en votre nom sur FairyID, et remplacer leurs secrets',
    'scopes.platform:manage':
      'Approuver, refuser et suspendre des organisations (administrateur de la plateforme uniquement)',
  },
});
