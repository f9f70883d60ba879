import { defineMessages } from '../define-messages.ts';

/** The device flow (RFC 8628): entering the code, confirming the device, and how it ended. */
export const deviceMessages = defineMessages({
  en: {
    'device.inputTitle': 'Connect a device',
    'device.inputLead': 'Enter the code shown on your device or in your terminal.',
    'device.codeLabel': 'Device code',
    'device.confirmTitle': 'Confirm the device',
    'device.confirmLead': '<strong>{app}</strong> is asking to sign in on a device showing this code:',
    'device.confirmHint':
      'Only continue if the code matches the one on your device. If you did not start this, deny it.',
    'device.signedInAs': 'The device will be signed in as <strong>{account}</strong>. Not you?',
    'device.yes': 'Yes, it is my device',
    'device.no': 'No, deny',
    'device.deniedTitle': 'Not connected',
    'device.appNotConnected': '<strong>{app}</strong> was not connected.',
    'device.notConnected': 'The device was not connected.',
    'device.nothingShared': 'Nothing from your account was shared with it.',
    'device.deniedHint':
      'You can close this page. If you meant to connect it, start again on the device to get a new code.',
    'device.successTitle': 'Device connected',
    'device.successLead': 'You are signed in to <strong>{app}</strong> on your device. You can close this page.',
  },
  fr: {
    'device.inputTitle': 'Connecter un appareil',
    'device.inputLead': 'Saisissez le code affiché sur votre appareil ou dans votre terminal.',
    'device.codeLabel': 'Code de l’appareil',
    'device.confirmTitle': 'Confirmez l’appareil',
    'device.confirmLead': '<strong>{app}</strong> demande à se connecter sur un appareil qui affiche ce code\u202f:',
    'device.confirmHint':
      'Ne continuez que si ce code est identique à celui de votre appareil. Si vous n’êtes pas à l’origine de cette demande, refusez-la.',
    'device.signedInAs': 'L’appareil sera connecté avec <strong>{account}</strong>. Ce n’est pas vous\u202f?',
    'device.yes': 'Oui, c’est mon appareil',
    'device.no': 'Non, refuser',
    'device.deniedTitle': 'Appareil non connecté',
    'device.appNotConnected': 'La connexion à <strong>{app}</strong> n’a pas eu lieu.',
    'device.notConnected': 'L’appareil n’a pas été connecté.',
    'device.nothingShared': 'Aucune donnée de votre compte ne lui a été communiquée.',
    'device.deniedHint':
      'Vous pouvez fermer cette page. Si vous vouliez le connecter, recommencez sur l’appareil pour obtenir un nouveau code.',
    'device.successTitle': 'Appareil connecté',
    'device.successLead':
      'Votre appareil est connecté à <strong>{app}</strong> avec votre compte. Vous pouvez fermer cette page.',
  },
});
