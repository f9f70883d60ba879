import { defineMessages } from '../define-messages.ts';

/** The frame of an error page; its title and message come from the route that failed. */
export const errorPageMessages = defineMessages({
  en: {
    'errorPage.reference': 'Reference:',
    'errorPage.startAgain': 'Start again',
  },
  fr: {
    'errorPage.reference': 'Référence\u202f:',
    'errorPage.startAgain': 'Recommencer',
  },
});
