import { defineMessages } from '../define-messages.ts';

/**
 * One-time codes, authenticator codes, device codes and passkeys: what every page that sends or
 * checks them says when something went wrong (src/verification/, src/interaction/passkey-refusals.ts).
 */
export const verificationMessages = defineMessages({
  en: {
    'verification.source.email': 'email',
    'verification.source.sms': 'text message',
    'verification.malformed': 'Enter the 6 digits from the {source}.',
    'verification.appCodeMalformed': 'Enter the 6 digits your authenticator app shows for FairyID.',
    'verification.appCodeWrong':
      'That code is not right. Check the time on your phone and enter the code your app shows now.',
    'verification.appCodeReplayed': 'That code was already used. Wait for your app to show the next one.',
    'verification.expired': 'That code has expired. Ask for a new one.',
    'verification.resendWait': 'A code was just sent. You can ask for a new one in {wait}.',
    'verification.sendLimited': 'Too many codes were asked for. Try again in {wait}.',
    'verification.undelivered': 'We could not send the {source} just now. Please try again in a minute.',
    'verification.undeliveredOr':
      'We could not send the {source} just now. Please try again in a minute, or {alternative}.',
    'verification.alternative.email': 'use your email address',
    'verification.alternative.another': 'use another way',
    'verification.wrong': {
      one: 'That code is not right. {count} try left.',
      other: 'That code is not right. {count} tries left.',
    },
    'verification.tooManyWrong': 'Too many wrong codes. Ask for a new code to try again.',
    'verification.tooManyAttempts': 'Too many attempts. Try again in {wait}.',
    'verification.lockedOut.email': 'Too many wrong codes. Signing in with this email address is locked for {wait}.',
    'verification.lockedOut.sms': 'Too many wrong codes. Signing in with this phone number is locked for {wait}.',
    'verification.lockedOut.account': 'Too many wrong codes. Signing in to this account is locked for {wait}.',
    'verification.newCodeSent': 'We sent a new code. Earlier codes no longer work.',
    'verification.device.tooManyTitle': 'Too many codes tried',
    'verification.device.tooMany':
      'Too many wrong device codes were entered from your network. Check the code on your device and try again in {wait}.',
    'verification.device.back': 'Back to the device page',
    'verification.device.invalid': 'That code is not valid. Check the code on your device and try again.',
    'verification.device.expired': 'That code has expired. Start again on your device to get a new one.',
    'verification.device.used': 'That code was already used. Start again on your device.',
    'verification.device.unchecked': 'We could not check that code. Please try again.',
    'verification.passkey.challenge': 'That passkey request expired or was already used. Try again.',
    'verification.passkey.unknown_credential':
      'That passkey is not registered with FairyID. Sign in another way, then add it again.',
    'verification.passkey.wrong_account': 'That passkey belongs to another account. Use a passkey of this account.',
    'verification.passkey.invalid': 'That passkey could not be verified. Try again, or sign in another way.',
    'verification.passkey.user_not_verified':
      'Your device did not confirm it was you (a fingerprint, face or PIN). Try again.',
    'verification.passkey.cloned':
      'That passkey was refused because it may have been copied. Sign in another way and check your passkeys.',
    'verification.passkey.backup_state':
      'That passkey was refused because it no longer matches the one you added. Sign in another way and check your passkeys.',
    'verification.passkey.already_registered': 'That passkey is already registered.',
    'verification.passkey.notUnderstood': 'The passkey response was not understood. Reload the page and try again.',
    'verification.passkey.none': 'This account has no passkey yet. Use another way to confirm it is you.',
    'verification.passkey.hasSecondStep': 'This account already has a second step. Use it to continue.',
    'verification.passkey.reauthenticate': 'To add a passkey, first confirm it is you by signing in again.',
  },
  fr: {
    'verification.source.email': 'l’e-mail',
    'verification.source.sms': 'le SMS',
    'verification.malformed': 'Saisissez les 6 chiffres reçus dans {source}.',
    'verification.appCodeMalformed':
      'Saisissez les 6 chiffres que votre application d’authentification affiche pour FairyID.',
    'verification.appCodeWrong':
      'Ce code n’est pas correct. Vérifiez l’heure de votre téléphone et saisissez le code que votre application affiche maintenant.',
    'verification.appCodeReplayed': 'Ce code a déjà été utilisé. Attendez que votre application affiche le suivant.',
    'verification.expired': 'Ce code a expiré. Demandez-en un nouveau.',
    'verification.resendWait': 'Un code vient d’être envoyé. Vous pourrez en demander un nouveau dans {wait}.',
    'verification.sendLimited': 'Trop de codes ont été demandés. Réessayez dans {wait}.',
    'verification.undelivered':
      'Nous n’avons pas pu envoyer {source} pour le moment. Veuillez réessayer dans une minute.',
    'verification.undeliveredOr':
      'Nous n’avons pas pu envoyer {source} pour le moment. Veuillez réessayer dans une minute, ou {alternative}.',
    'verification.alternative.email': 'utilisez votre adresse e-mail',
    'verification.alternative.another': 'utilisez un autre moyen',
    'verification.wrong': {
      one: 'Ce code n’est pas correct. Il vous reste {count} essai.',
      other: 'Ce code n’est pas correct. Il vous reste {count} essais.',
    },
    'verification.tooManyWrong': 'Trop de codes erronés. Demandez un nouveau code pour réessayer.',
    'verification.tooManyAttempts': 'Trop de tentatives. Réessayez dans {wait}.',
    'verification.lockedOut.email':
      'Trop de codes erronés. La connexion avec cette adresse e-mail est bloquée pendant {wait}.',
    'verification.lockedOut.sms':
      'Trop de codes erronés. La connexion avec ce numéro de téléphone est bloquée pendant {wait}.',
    'verification.lockedOut.account': 'Trop de codes erronés. La connexion à ce compte est bloquée pendant {wait}.',
    'verification.newCodeSent': 'Nous vous avons envoyé un nouveau code. Les codes précédents ne fonctionnent plus.',
    'verification.device.tooManyTitle': 'Trop de codes essayés',
    'verification.device.tooMany':
      'Trop de codes d’appareil erronés ont été saisis depuis votre réseau. Vérifiez le code affiché sur votre appareil et réessayez dans {wait}.',
    'verification.device.back': 'Retour à la page de l’appareil',
    'verification.device.invalid':
      'Ce code n’est pas valide. Vérifiez le code affiché sur votre appareil et réessayez.',
    'verification.device.expired': 'Ce code a expiré. Recommencez sur votre appareil pour en obtenir un nouveau.',
    'verification.device.used': 'Ce code a déjà été utilisé. Recommencez sur votre appareil.',
    'verification.device.unchecked': 'Nous n’avons pas pu vérifier ce code. Veuillez réessayer.',
    'verification.passkey.challenge': 'Cette demande de clé d’accès a expiré ou a déjà été utilisée. Réessayez.',
    'verification.passkey.unknown_credential':
      'Cette clé d’accès n’est pas enregistrée auprès de FairyID. Connectez-vous autrement, puis ajoutez-la de nouveau.',
    'verification.passkey.wrong_account':
      'Cette clé d’accès appartient à un autre compte. Utilisez une clé d’accès de ce compte.',
    'verification.passkey.invalid':
      'Cette clé d’accès n’a pas pu être vérifiée. Réessayez, ou connectez-vous autrement.',
    'verification.passkey.user_not_verified':
      'Votre appareil n’a pas confirmé que c’était bien vous (empreinte digitale, visage ou code PIN). Réessayez.',
    'verification.passkey.cloned':
      'Cette clé d’accès a été refusée, car elle a peut-être été copiée. Connectez-vous autrement et vérifiez vos clés d’accès.',
    'verification.passkey.backup_state':
      'Cette clé d’accès a été refusée, car elle ne correspond plus à celle que vous avez ajoutée. Connectez-vous autrement et vérifiez vos clés d’accès.',
    'verification.passkey.already_registered': 'Cette clé d’accès est déjà enregistrée.',
    'verification.passkey.notUnderstood':
      'La réponse de la clé d’accès n’a pas été comprise. Rechargez la page et réessayez.',
    'verification.passkey.none':
      'Ce compte n’a pas encore de clé d’accès. Confirmez que c’est bien vous d’une autre manière.',
    'verification.passkey.hasSecondStep': 'Ce compte a déjà une deuxième étape. Utilisez-la pour continuer.',
    'verification.passkey.reauthenticate':
      'Pour ajouter une clé d’accès, confirmez d’abord que c’est bien vous en vous reconnectant.',
  },
});
