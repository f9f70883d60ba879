import { defineMessages } from '../define-messages.ts';

/**
 * Passkeys: what the browser script says when a ceremony fails (views/partials-passkey-words.eta),
 * the offer after a sign-in, and the account's passkeys page.
 */
export const passkeyMessages = defineMessages({
  en: {
    'passkeys.notAllowed': 'The passkey request was cancelled or timed out. Try again when you are ready.',
    'passkeys.invalidState': 'This device already has a passkey for your account.',
    'passkeys.security': 'Passkeys are not available on this address.',
    'passkeys.notSupported': 'This device cannot make the kind of passkey FairyID needs.',
    'passkeys.aborted': 'The passkey request was stopped. Try again.',
    'passkeys.failed': 'Something went wrong with the passkey. Try again, or use another way.',
    'passkeys.offerTitle': 'Sign in faster next time',
    'passkeys.offerLead':
      'Create a passkey and next time sign in to <strong>{app}</strong> with your fingerprint, face or screen lock, without waiting for a code. It cannot be phished.',
    'passkeys.offerUnsupported': 'This browser cannot create passkeys. Continue without one.',
    'passkeys.notNow': 'Not now',
    'passkeys.notAgain': 'We will not ask again for a month. You can add a passkey any time from your account.',
    'passkeys.lead':
      'A passkey signs you in with your fingerprint, face or screen lock instead of a code. It stays on your device or in your password manager, and works only on FairyID, so it cannot be phished.',
    'passkeys.none': 'You have no passkeys yet.',
    'passkeys.kind': 'Kind',
    'passkeys.synced': 'Synced passkey (kept in your password manager or account)',
    'passkeys.deviceBound': 'Device-bound (stays on one device or security key)',
    'passkeys.added': 'Added',
    'passkeys.lastUsed': 'Last used',
    'passkeys.never': 'Never',
    'passkeys.newName': 'New name for {name}',
    'passkeys.saveName': 'Save name',
    'passkeys.remove': 'Remove',
    'passkeys.removeNamed': 'Remove {name}',
    'passkeys.add': 'Add a passkey',
    'passkeys.optional': '(optional)',
    'passkeys.namePlaceholder': 'Like “Work laptop”',
    'passkeys.nameHint': 'So you can tell your passkeys apart. Leave empty to name it by today’s date.',
    'passkeys.unsupported': 'This browser cannot create passkeys. Try another browser or device.',
  },
  fr: {
    'passkeys.notAllowed': 'La demande de clé d’accès a été annulée ou a expiré. Réessayez lorsque vous le souhaitez.',
    'passkeys.invalidState': 'Cet appareil possède déjà une clé d’accès pour votre compte.',
    'passkeys.security': 'Les clés d’accès ne sont pas disponibles à cette adresse.',
    'passkeys.notSupported': 'Cet appareil ne peut pas créer le type de clé d’accès dont FairyID a besoin.',
    'passkeys.aborted': 'La demande de clé d’accès a été interrompue. Réessayez.',
    'passkeys.failed': 'Un problème est survenu avec la clé d’accès. Réessayez ou utilisez un autre moyen.',
    'passkeys.offerTitle': 'Connectez-vous plus vite la prochaine fois',
    'passkeys.offerLead':
      'Créez une clé d’accès et, la prochaine fois, connectez-vous à <strong>{app}</strong> avec votre empreinte digitale, votre visage ou le verrouillage de l’écran, sans attendre de code. Elle résiste à l’hameçonnage.',
    'passkeys.offerUnsupported': 'Ce navigateur ne peut pas créer de clé d’accès. Continuez sans.',
    'passkeys.notNow': 'Pas maintenant',
    'passkeys.notAgain':
      'Nous ne vous le redemanderons pas avant un mois. Vous pouvez ajouter une clé d’accès à tout moment depuis votre compte.',
    'passkeys.lead':
      'Une clé d’accès vous connecte avec votre empreinte digitale, votre visage ou le verrouillage de l’écran plutôt qu’avec un code. Elle reste sur votre appareil ou dans votre gestionnaire de mots de passe, et ne fonctionne que sur FairyID\u202f: elle résiste donc à l’hameçonnage.',
    'passkeys.none': 'Vous n’avez pas encore de clé d’accès.',
    'passkeys.kind': 'Type',
    'passkeys.synced': 'Clé synchronisée (conservée dans votre gestionnaire de mots de passe ou votre compte)',
    'passkeys.deviceBound': 'Liée à un appareil (reste sur un seul appareil ou une clé de sécurité)',
    'passkeys.added': 'Ajoutée',
    'passkeys.lastUsed': 'Dernière utilisation',
    'passkeys.never': 'Jamais',
    'passkeys.newName': 'Nouveau nom pour {name}',
    'passkeys.saveName': 'Enregistrer le nom',
    'passkeys.remove': 'Retirer',
    'passkeys.removeNamed': 'Retirer {name}',
    'passkeys.add': 'Ajouter une clé d’accès',
    'passkeys.optional': '(facultatif)',
    'passkeys.namePlaceholder': 'Par exemple «\u202fPortable du bureau\u202f»',
    'passkeys.nameHint': 'Pour distinguer vos clés d’accès. Laissez vide pour la nommer d’après la date du jour.',
    'passkeys.unsupported':
      'Ce navigateur ne peut pas créer de clé d’accès. Essayez un autre navigateur ou un autre appareil.',
  },
});
