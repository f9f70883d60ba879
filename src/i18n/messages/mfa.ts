import { defineMessages } from '../define-messages.ts';

/** The second step of a sign-in: choosing a way, codes, backup codes, enrolling when an app asks for it. */
export const mfaMessages = defineMessages({
  en: {
    'mfa.title': 'Confirm it’s you',
    'mfa.passkeyAsked': '<strong>{app}</strong> asks for a passkey, the strongest way to sign in.',
    'mfa.oneMoreStep': 'One more step to continue to <strong>{app}</strong>.',
    'mfa.appCodeLabel': 'Code from your authenticator app',
    'mfa.codeLabel': 'Code',
    'mfa.continue': 'Continue',
    'mfa.textCodeTo': 'Text a code to <span class="nowrap">{address}</span>',
    'mfa.emailCodeTo': 'Email a code to <span class="nowrap">{address}</span>',
    'mfa.thisTimeTextCodeTo': 'Or, this time, text a code to <span class="nowrap">{address}</span>',
    'mfa.thisTimeEmailCodeTo': 'Or, this time, email a code to <span class="nowrap">{address}</span>',
    'mfa.useBackupCode': 'Use a backup code',
    'mfa.backupCodesLeft': { one: '({count} code left)', other: '({count} codes left)' },
    'mfa.anotherWay': 'Use another way',
    'mfa.backupCodeTitle': 'Use a backup code',
    'mfa.backupCodeLead':
      'Enter one of the backup codes you saved when you set up two-step sign-in. Each code works once.',
    'mfa.backupCodesUnused': {
      one: 'You have <strong>{count}</strong> unused code.',
      other: 'You have <strong>{count}</strong> unused codes.',
    },
    'mfa.backupCodeLabel': 'Backup code',
    'mfa.savedContinue': 'I saved them, continue',
    'mfa.createPasskey': 'Create a passkey',
    'mfa.addSecondStep': 'Add a second step',
    'mfa.enrollPasskeyLead':
      '<strong>{app}</strong> asks for a passkey: it signs you in with your fingerprint, face or screen lock, and cannot be phished. Create one on this device to continue.',
    'mfa.enrollSecondStepLead':
      '<strong>{app}</strong> asks for two-step sign-in. Add a second step to your account: from now on, signing in will ask for it after your code.',
    'mfa.useAuthenticatorApp': 'Use an authenticator app',
    'mfa.authenticatorApps':
      'Any app that shows 6-digit codes works: Google Authenticator, Microsoft Authenticator, 1Password, Aegis and others.',
    'mfa.rememberBrowser': 'Remember this browser for 30 days',
    'mfa.rememberBrowserHelp':
      'Signing in here will then ask only for your code, unless an app asks for more. Not on a shared computer. You can forget this browser on your security page.',
    'mfa.usePasskey': 'Use your passkey',
    'mfa.passkeyConfirms': 'Your fingerprint, face or screen lock will confirm it is you from now on.',
  },
  fr: {
    'mfa.title': 'Confirmez votre identité',
    'mfa.passkeyAsked': '<strong>{app}</strong> demande une clé d’accès, le moyen de connexion le plus sûr.',
    'mfa.oneMoreStep': 'Encore une étape pour continuer vers <strong>{app}</strong>.',
    'mfa.appCodeLabel': 'Code de votre application d’authentification',
    'mfa.codeLabel': 'Code',
    'mfa.continue': 'Continuer',
    'mfa.textCodeTo': 'Recevoir un code par SMS au <span class="nowrap">{address}</span>',
    'mfa.emailCodeTo': 'Recevoir un code par e-mail à <span class="nowrap">{address}</span>',
    'mfa.thisTimeTextCodeTo': 'Ou, pour cette fois, recevoir un code par SMS au <span class="nowrap">{address}</span>',
    'mfa.thisTimeEmailCodeTo':
      'Ou, pour cette fois, recevoir un code par e-mail à <span class="nowrap">{address}</span>',
    'mfa.useBackupCode': 'Utiliser un code de secours',
    'mfa.backupCodesLeft': { one: '({count} code restant)', other: '({count} codes restants)' },
    'mfa.anotherWay': 'Utiliser un autre moyen',
    'mfa.backupCodeTitle': 'Utiliser un code de secours',
    'mfa.backupCodeLead':
      'Saisissez l’un des codes de secours enregistrés lors de l’activation de la connexion en deux étapes. Chaque code ne sert qu’une fois.',
    'mfa.backupCodesUnused': {
      one: 'Il vous reste <strong>{count}</strong> code inutilisé.',
      other: 'Il vous reste <strong>{count}</strong> codes inutilisés.',
    },
    'mfa.backupCodeLabel': 'Code de secours',
    'mfa.savedContinue': 'Je les ai enregistrés, continuer',
    'mfa.createPasskey': 'Créer une clé d’accès',
    'mfa.addSecondStep': 'Ajouter une deuxième étape',
    'mfa.enrollPasskeyLead':
      '<strong>{app}</strong> demande une clé d’accès\u202f: elle vous connecte avec votre empreinte digitale, votre visage ou le verrouillage de l’écran, et résiste à l’hameçonnage. Créez-en une sur cet appareil pour continuer.',
    'mfa.enrollSecondStepLead':
      '<strong>{app}</strong> demande une connexion en deux étapes. Ajoutez une deuxième étape à votre compte\u202f: désormais, elle vous sera demandée après votre code.',
    'mfa.useAuthenticatorApp': 'Utiliser une application d’authentification',
    'mfa.authenticatorApps':
      'Toute application qui affiche des codes à 6 chiffres convient\u202f: Google Authenticator, Microsoft Authenticator, 1Password, Aegis, etc.',
    'mfa.rememberBrowser': 'Mémoriser ce navigateur pendant 30 jours',
    'mfa.rememberBrowserHelp':
      'La connexion ici ne demandera alors que votre code, sauf si une application exige davantage. À éviter sur un ordinateur partagé. Vous pourrez oublier ce navigateur depuis votre page de sécurité.',
    'mfa.usePasskey': 'Utiliser votre clé d’accès',
    'mfa.passkeyConfirms':
      'Désormais, votre empreinte digitale, votre visage ou le verrouillage de l’écran confirmeront votre identité.',
  },
});
