import { defineMessages } from '../define-messages.ts';

/** What the sign-in, second-step and consent routes say about a form they show again (src/interaction/). */
export const signInFormMessages = defineMessages({
  en: {
    'signInForm.invalidEmail': 'Enter a valid email address, like name@example.com.',
    'signInForm.phone.not_a_number':
      'Enter an email address, like name@example.com, or a phone number with its country code, like +1 415 555 2671.',
    'signInForm.phone.no_country_code': 'Start the phone number with + and its country code, like +1 415 555 2671.',
    'signInForm.phone.invalid': 'That phone number is not valid. Check the country code and the digits.',
    'signInForm.chooseOrganization': 'Choose the organization this app will act for.',
    'signInForm.useAnotherWay': 'Use one of the ways below.',
    'signInForm.noBackupCodesLeft': 'You have no backup codes left. Use one of the ways below.',
    'signInForm.backupCodeWrong': 'That backup code is not right, or it was already used. Each code works once.',
    'signInForm.setupTooLong': 'That setup took too long. Start again to get a new key.',
  },
  fr: {
    'signInForm.invalidEmail': 'Saisissez une adresse e-mail valide, par exemple nom@example.com.',
    'signInForm.phone.not_a_number':
      'Saisissez une adresse e-mail, par exemple nom@example.com, ou un numéro de téléphone avec son indicatif pays, par exemple +33 6 12 34 56 78.',
    'signInForm.phone.no_country_code':
      'Commencez le numéro de téléphone par + et son indicatif pays, par exemple +33 6 12 34 56 78.',
    'signInForm.phone.invalid': 'Ce numéro de téléphone n’est pas valide. Vérifiez l’indicatif pays et les chiffres.',
    'signInForm.chooseOrganization': 'Choisissez l’organisation pour laquelle cette application agira.',
    'signInForm.useAnotherWay': 'Utilisez l’un des moyens ci-dessous.',
    'signInForm.noBackupCodesLeft': 'Il ne vous reste aucun code de secours. Utilisez l’un des moyens ci-dessous.',
    'signInForm.backupCodeWrong':
      'Ce code de secours n’est pas correct, ou il a déjà été utilisé. Chaque code ne fonctionne qu’une fois.',
    'signInForm.setupTooLong': 'La configuration a pris trop de temps. Recommencez pour obtenir une nouvelle clé.',
  },
});
