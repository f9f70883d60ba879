import { defineMessages } from '../define-messages.ts';

/**
 * Second steps, wherever they are set up: the authenticator app, backup codes (and the words of their
 * saved file), and the account's sign-in and security page.
 */
export const securityMessages = defineMessages({
  en: {
    'security.saveBackupCodes': 'Save your backup codes',
    'security.backupCodesLead':
      'If you lose your phone or security key, each of these codes signs you in once. Save them somewhere safe, like a password manager or a printed page. <strong>They are shown only now.</strong>',
    'security.backupCodesList': 'Your backup codes',
    'security.backupCopyAll': 'Copy all',
    'security.backupDownload': 'Download .txt',
    'security.backupPrint': 'Print',
    'security.backupReplaced': 'Your earlier backup codes no longer work.',
    'security.backupFileHeading': 'FairyID backup codes for {host}',
    'security.backupFileNote': 'Each code signs you in once, in place of your second step. Keep them somewhere safe.',
    'security.backupFileMade': 'Made {date}',
    'security.backupCopied': {
      one: 'Copied {count} code. Paste it somewhere safe.',
      other: 'Copied {count} codes. Paste them somewhere safe.',
    },
    'security.backupCannotCopy': 'This browser cannot copy here. Select the codes and copy them instead.',
    'security.backupCopyRefused': 'The browser did not allow copying. Select the codes and copy them instead.',
    'security.backupDownloaded': 'Downloaded fairyid-backup-codes.txt.',
    'security.totpSetupTitle': 'Set up your authenticator app',
    'security.totpStepOpen': 'Open your authenticator app and add an account.',
    'security.totpStepScan': 'Scan this code, or type the key below.',
    'security.totpQrLabel': 'QR code with the key for your authenticator app',
    'security.totpCannotScan': 'Can’t scan? Type this key:',
    'security.totpStepCode': 'Enter the 6-digit code the app shows for FairyID.',
    'security.totpCodeLabel': 'Code from the app',
    'security.totpTurnOn': 'Turn on',
    'security.savedThem': 'I saved them',
    'security.twoStepOn':
      'Two-step sign-in is <strong>on</strong>: after your email or text code, signing in asks for one of the ways below.',
    'security.twoStepOff':
      'Two-step sign-in is <strong>off</strong>. Add an authenticator app or a passkey so that a code alone is not enough to get into your account.',
    'security.authenticatorApp': 'Authenticator app',
    'security.added': 'Added {added}.',
    'security.addedLastUsed': 'Added {added}, last used {lastUsed}.',
    'security.rename': 'Rename',
    'security.removeTotp': 'Remove authenticator app',
    'security.onlySecondStep':
      'It is your only second step: removing it turns two-step sign-in off, and asks you to sign in again first.',
    'security.authenticatorHint': 'An app on your phone that shows a new 6-digit code every 30 seconds.',
    'security.setUpTotp': 'Set up an authenticator app',
    'security.passkeyCount': { one: 'You have {count} passkey.', other: 'You have {count} passkeys.' },
    'security.passkeysHint': 'Sign in with your fingerprint, face or screen lock instead of a code.',
    'security.managePasskeys': 'Manage passkeys',
    'security.backupCodes': 'Backup codes',
    'security.backupCodesLeft':
      'For when your phone or key is out of reach: each code signs you in once. <strong>{left} of {total}</strong> left.',
    'security.newBackupCodes': 'Make new backup codes',
    'security.newBackupCodesHint':
      'New codes replace all the old ones. You will be asked to sign in again first if you have not just done so.',
    'security.backupCodesLater': 'You get backup codes when you add your first authenticator app or passkey.',
    'security.remembered': 'Remembered browsers',
    'security.rememberedHint':
      'These browsers skip the second step when an app asks for nothing more. Forget one you no longer use, or all of them if a device is lost.',
    'security.rememberedFromUntil': 'Remembered {since} from {ip}, until {until}.',
    'security.rememberedUntil': 'Remembered {since}, until {until}.',
    'security.forgetBrowser': 'Forget this browser',
    'security.forgetAll': 'Forget all browsers',
    'security.confirmForgetAllTitle': 'Forget all remembered browsers?',
    'security.confirmForgetAllLead': {
      one: '<strong>{count} remembered browser</strong> will ask for your second step again the next time you sign in there. If it is this one, you will be asked right away.',
      other:
        '<strong>{count} remembered browsers</strong> will ask for your second step again the next time you sign in there. If this browser is one of them, you will be asked right away.',
    },
    'security.confirmKeepBrowsers': 'Cancel, keep them',
    'security.noneRemembered':
      'None. At the second step of a sign-in, “Remember this browser for 30 days” lets that browser skip it when an app asks for nothing more.',
  },
  fr: {
    'security.saveBackupCodes': 'Enregistrez vos codes de secours',
    'security.backupCodesLead':
      'Si vous perdez votre téléphone ou votre clé de sécurité, chacun de ces codes vous connecte une fois. Conservez-les en lieu sûr, par exemple dans un gestionnaire de mots de passe ou sur une page imprimée. <strong>Ils ne sont affichés qu’une seule fois.</strong>',
    'security.backupCodesList': 'Vos codes de secours',
    'security.backupCopyAll': 'Tout copier',
    'security.backupDownload': 'Télécharger en .txt',
    'security.backupPrint': 'Imprimer',
    'security.backupReplaced': 'Vos anciens codes de secours ne fonctionnent plus.',
    'security.backupFileHeading': 'Codes de secours FairyID pour {host}',
    'security.backupFileNote':
      'Chaque code vous connecte une fois, à la place de votre deuxième étape. Conservez-les en lieu sûr.',
    'security.backupFileMade': 'Créés le {date}',
    'security.backupCopied': {
      one: '{count} code copié. Collez-le en lieu sûr.',
      other: '{count} codes copiés. Collez-les en lieu sûr.',
    },
    'security.backupCannotCopy':
      'Ce navigateur ne peut pas copier ici. Sélectionnez plutôt les codes et copiez-les vous-même.',
    'security.backupCopyRefused':
      'Le navigateur n’a pas autorisé la copie. Sélectionnez plutôt les codes et copiez-les vous-même.',
    'security.backupDownloaded': 'fairyid-backup-codes.txt a été téléchargé.',
    'security.totpSetupTitle': 'Configurez votre application d’authentification',
    'security.totpStepOpen': 'Ouvrez votre application d’authentification et ajoutez un compte.',
    'security.totpStepScan': 'Scannez ce code ou saisissez la clé ci-dessous.',
    'security.totpQrLabel': 'Code QR contenant la clé pour votre application d’authentification',
    'security.totpCannotScan': 'Impossible de scanner\u202f? Saisissez cette clé\u202f:',
    'security.totpStepCode': 'Saisissez le code à 6 chiffres que l’application affiche pour FairyID.',
    'security.totpCodeLabel': 'Code de l’application',
    'security.totpTurnOn': 'Activer',
    'security.savedThem': 'Je les ai enregistrés',
    'security.twoStepOn':
      'La connexion en deux étapes est <strong>activée</strong>\u202f: après votre code reçu par e-mail ou par SMS, la connexion demande l’un des moyens ci-dessous.',
    'security.twoStepOff':
      'La connexion en deux étapes est <strong>désactivée</strong>. Ajoutez une application d’authentification ou une clé d’accès pour qu’un code seul ne suffise pas à entrer dans votre compte.',
    'security.authenticatorApp': 'Application d’authentification',
    'security.added': 'Ajoutée {added}.',
    'security.addedLastUsed': 'Ajoutée {added}, dernière utilisation {lastUsed}.',
    'security.rename': 'Renommer',
    'security.removeTotp': 'Retirer l’application d’authentification',
    'security.onlySecondStep':
      'C’est votre seule deuxième étape\u202f: la retirer désactive la connexion en deux étapes, et vous demande d’abord de vous reconnecter.',
    'security.authenticatorHint':
      'Une application sur votre téléphone qui affiche un nouveau code à 6 chiffres toutes les 30 secondes.',
    'security.setUpTotp': 'Configurer une application d’authentification',
    'security.passkeyCount': { one: 'Vous avez {count} clé d’accès.', other: 'Vous avez {count} clés d’accès.' },
    'security.passkeysHint':
      'Connectez-vous avec votre empreinte digitale, votre visage ou le verrouillage de l’écran plutôt qu’avec un code.',
    'security.managePasskeys': 'Gérer les clés d’accès',
    'security.backupCodes': 'Codes de secours',
    'security.backupCodesLeft':
      'Pour quand votre téléphone ou votre clé est hors de portée\u202f: chaque code vous connecte une fois. Il en reste <strong>{left} sur {total}</strong>.',
    'security.newBackupCodes': 'Générer de nouveaux codes de secours',
    'security.newBackupCodesHint':
      'Les nouveaux codes remplacent tous les anciens. Si vous ne venez pas de vous connecter, il vous sera d’abord demandé de le faire.',
    'security.backupCodesLater':
      'Vous recevrez des codes de secours en ajoutant votre première application d’authentification ou clé d’accès.',
    'security.remembered': 'Navigateurs mémorisés',
    'security.rememberedHint':
      'Ces navigateurs sautent la deuxième étape quand une application n’exige rien de plus. Oubliez ceux que vous n’utilisez plus, ou tous si vous perdez un appareil.',
    'security.rememberedFromUntil': 'Mémorisé {since} (adresse IP {ip}), expire {until}.',
    'security.rememberedUntil': 'Mémorisé {since}, expire {until}.',
    'security.forgetBrowser': 'Oublier ce navigateur',
    'security.forgetAll': 'Oublier tous les navigateurs',
    'security.confirmForgetAllTitle': 'Oublier tous les navigateurs mémorisés\u202f?',
    'security.confirmForgetAllLead': {
      one: '<strong>{count} navigateur mémorisé</strong> vous redemandera votre deuxième étape à votre prochaine connexion depuis celui-ci. Si c’est ce navigateur, elle vous sera demandée tout de suite.',
      other:
        '<strong>{count} navigateurs mémorisés</strong> vous redemanderont votre deuxième étape à votre prochaine connexion depuis chacun d’eux. Si ce navigateur en fait partie, elle vous sera demandée tout de suite.',
    },
    'security.confirmKeepBrowsers': 'Annuler, les garder',
    'security.noneRemembered':
      'Aucun. À la deuxième étape d’une connexion, «\u202fMémoriser ce navigateur pendant 30 jours\u202f» permet à ce navigateur de la sauter quand une application n’exige rien de plus.',
  },
});
