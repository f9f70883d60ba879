import { defineMessages } from '../define-messages.ts';

/**
 * The sign-in pages: the identifier, the one-time code (and its resend button), passkeys and upstream
 * providers on the sign-in page, linking an upstream account. Messages printed with `it.tHtml` carry
 * their own markup.
 */
export const loginMessages = defineMessages({
  en: {
    'login.title': 'Sign in',
    'login.appPrefix': 'to continue to',
    'login.lastTime': 'Last time on this browser you signed in as',
    'login.continueAs': 'Continue as {identifier}',
    'login.useAnotherAccount': 'Use another account',
    'login.identifierLabel': 'Email address or phone number',
    'login.identifierHelp':
      'We will email or text you a 6-digit code. No password needed. Write a phone number with its country code, like <span class="phone-number">+1 415 555 2671</span>.',
    'login.sendCode': 'Send me a code',
    'login.emailLabel': 'Email address',
    'login.emailHelp': 'We will email you a 6-digit code. No password needed.',
    'login.emailCode': 'Email me a code',
    'login.cancel': 'Cancel and return to {app}',
    'login.returnTo': 'Return to {app}',
    'login.or': 'or',
    'login.passkeySignIn': 'Sign in with a passkey',
    'login.continueWith': 'Continue with {provider}',
    'login.passkeyUnsupported': 'This browser cannot use passkeys.',
    'login.passkeyUnsupportedWhy': '{app} asks for one here, so this sign-in cannot go on in this browser.',
    'login.passkeyUnsupportedWhat':
      'Open the app again in a browser that supports passkeys (a recent Chrome, Edge, Firefox or Safari, with JavaScript on), or on your phone. Or go back to {app} and choose another way there.',
    'login.appPolicyAndTerms':
      '{app}’s <a href="{policy}" rel="noopener noreferrer" target="_blank">privacy policy</a> and <a href="{terms}" rel="noopener noreferrer" target="_blank">terms of service</a> say how it uses your information.',
    'login.appPolicy':
      '{app}’s <a href="{policy}" rel="noopener noreferrer" target="_blank">privacy policy</a> says how it uses your information.',
    'login.appTerms':
      '{app}’s <a href="{terms}" rel="noopener noreferrer" target="_blank">terms of service</a> say how it uses your information.',
    'login.checkEmail': 'Check your email',
    'login.checkPhone': 'Check your phone',
    'login.codeEmailed': 'We sent a 6-digit code to <strong>{address}</strong>. It expires in {lifetime}.',
    'login.codeTexted':
      'We texted a 6-digit code to <strong class="phone-number">{address}</strong>. It expires in {lifetime}.',
    'login.codeLabel': 'Sign-in code',
    'login.signIn': 'Sign in',
    'login.differentEmail': 'Use a different email',
    'login.differentPhone': 'Use a different phone number',
    'login.resend': 'Send a new code',
    'login.resendIn': 'Send a new code ({clock})',
    'login.resendHintSms': 'Texts can take a minute to arrive. Check that the number above is yours.',
    'login.resendHintEmail': 'Can’t find it? Check your spam or junk folder for an email from FairyID.',
    'login.federationFailed': 'Not signed in',
    'login.providerSaid': 'The provider said: <q>{description}</q>',
    'login.anotherWay': 'Sign in another way',
    'login.linkLead':
      'An account already signs in with <strong>{address}</strong>. To sign in to it with {provider} from now on, enter the 6-digit code we sent to that address. It expires in {lifetime}.',
    'login.codeFromEmail': 'Code from the email',
    'login.linkAndSignIn': 'Link and sign in',
  },
  fr: {
    'login.title': 'Connexion',
    'login.appPrefix': 'pour continuer vers',
    'login.lastTime': 'Dernière connexion sur ce navigateur avec',
    'login.continueAs': 'Continuer avec {identifier}',
    'login.useAnotherAccount': 'Utiliser un autre compte',
    'login.identifierLabel': 'Adresse e-mail ou numéro de téléphone',
    'login.identifierHelp':
      'Nous vous enverrons un code à 6 chiffres par e-mail ou par SMS. Aucun mot de passe n’est nécessaire. Écrivez le numéro de téléphone avec l’indicatif du pays, par exemple <span class="phone-number">+33 6 12 34 56 78</span>.',
    'login.sendCode': 'Recevoir un code',
    'login.emailLabel': 'Adresse e-mail',
    'login.emailHelp': 'Nous vous enverrons un code à 6 chiffres par e-mail. Aucun mot de passe n’est nécessaire.',
    'login.emailCode': 'Recevoir un code par e-mail',
    'login.cancel': 'Annuler et revenir à {app}',
    'login.returnTo': 'Revenir à {app}',
    'login.or': 'ou',
    'login.passkeySignIn': 'Se connecter avec une clé d’accès',
    'login.continueWith': 'Continuer avec {provider}',
    'login.passkeyUnsupported': 'Ce navigateur ne peut pas utiliser de clé d’accès.',
    'login.passkeyUnsupportedWhy':
      '{app} en demande une ici\u202f: cette connexion ne peut donc pas se poursuivre dans ce navigateur.',
    'login.passkeyUnsupportedWhat':
      'Rouvrez l’application dans un navigateur qui prend en charge les clés d’accès (une version récente de Chrome, Edge, Firefox ou Safari, avec JavaScript activé), ou sur votre téléphone. Vous pouvez aussi revenir à {app} et y choisir un autre moyen.',
    'login.appPolicyAndTerms':
      'La <a href="{policy}" rel="noopener noreferrer" target="_blank">politique de confidentialité</a> et les <a href="{terms}" rel="noopener noreferrer" target="_blank">conditions d’utilisation</a> de {app} expliquent l’usage qu’elle fait de vos informations.',
    'login.appPolicy':
      'La <a href="{policy}" rel="noopener noreferrer" target="_blank">politique de confidentialité</a> de {app} explique l’usage qu’elle fait de vos informations.',
    'login.appTerms':
      'Les <a href="{terms}" rel="noopener noreferrer" target="_blank">conditions d’utilisation</a> de {app} expliquent l’usage qu’elle fait de vos informations.',
    'login.checkEmail': 'Consultez vos e-mails',
    'login.checkPhone': 'Consultez votre téléphone',
    'login.codeEmailed':
      'Nous avons envoyé un code à 6 chiffres à <strong>{address}</strong>. Il expire dans {lifetime}.',
    'login.codeTexted':
      'Nous avons envoyé un code à 6 chiffres par SMS au <strong class="phone-number">{address}</strong>. Il expire dans {lifetime}.',
    'login.codeLabel': 'Code de connexion',
    'login.signIn': 'Se connecter',
    'login.differentEmail': 'Utiliser une autre adresse e-mail',
    'login.differentPhone': 'Utiliser un autre numéro de téléphone',
    'login.resend': 'Envoyer un nouveau code',
    'login.resendIn': 'Envoyer un nouveau code ({clock})',
    'login.resendHintSms':
      'Un SMS peut mettre une minute à arriver. Vérifiez que le numéro ci-dessus est bien le vôtre.',
    'login.resendHintEmail':
      'Vous ne le trouvez pas\u202f? Cherchez un e-mail de FairyID dans votre dossier de courrier indésirable.',
    'login.federationFailed': 'Connexion interrompue',
    'login.providerSaid': 'Réponse du fournisseur\u202f: <q>{description}</q>',
    'login.anotherWay': 'Se connecter autrement',
    'login.linkLead':
      'Un compte se connecte déjà avec <strong>{address}</strong>. Pour vous y connecter désormais avec {provider}, saisissez le code à 6 chiffres que nous avons envoyé à cette adresse. Il expire dans {lifetime}.',
    'login.codeFromEmail': 'Code reçu par e-mail',
    'login.linkAndSignIn': 'Associer et se connecter',
  },
});
