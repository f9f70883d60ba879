import { defineMessages } from '../define-messages.ts';

/**
 * Domain refusals (`ApiError.says`) as a page shows them to a person: the builders' and the
 * environments'. The API answers the same refusals with their English `message`, for developers.
 */
export const apiErrorMessages = defineMessages({
  en: {
    'apiErrors.builderRequired': 'Only builders register apps of their own. Become a builder on this page first.',
    'apiErrors.clientNotFound': 'You have no such app.',
    'apiErrors.accountNotFound': 'There is no such account.',
    'apiErrors.platformOwnerRequired': 'Only the platform owner can do this.',
    'apiErrors.clientLimit': {
      one: 'You may have at most {count} app of your own. Delete one first.',
      other: 'You may have at most {count} apps of your own. Delete one first.',
    },
    'apiErrors.publicClient': 'This app is public: it has no secret to rotate.',
    // {detail} is the registry's or oidc-provider's own English words about the metadata, quoted as they are.
    'apiErrors.clientNotSaved': 'This app could not be saved: {detail}',
    'apiErrors.environment.notFound': 'There is no such environment, or it belongs to someone you cannot see.',
    'apiErrors.environment.unknownTemplate': 'There is no environment template “{template}”.',
    'apiErrors.environment.unknownRegion': 'The region “{region}” is not offered. Choose one of: {regions}.',
    'apiErrors.environment.forbidden': 'Your role in this organization does not allow this.',
    'apiErrors.environment.personalLimit': {
      one: 'You may have at most {count} environment of your own. Delete one first.',
      other: 'You may have at most {count} environments of your own. Delete one first.',
    },
    'apiErrors.environment.planLimit': {
      one: 'The organization’s {plan} plan allows {count} environment. Delete one or upgrade the plan.',
      other: 'The organization’s {plan} plan allows {count} environments. Delete one or upgrade the plan.',
    },
    'apiErrors.environment.cannotPay':
      'Running this environment costs {price} DUST per started hour, and the wallet does not hold that much.',
    'apiErrors.environment.cannotStart': 'This environment cannot be started now ({state}).',
    'apiErrors.environment.cannotStop': 'This environment cannot be stopped now ({state}).',
    'apiErrors.environment.cannotDelete': 'This environment cannot be deleted now ({state}).',
    'apiErrors.environment.cannotKeepRunning':
      'This environment is not running ({state}), so there is nothing to keep.',
    'apiErrors.environment.cannotChange': 'This environment cannot be changed now ({state}).',
    'apiErrors.environment.formExpired': 'This form has expired. Reload the page and try again.',
    'apiErrors.environment.formReused': 'This form was already sent with other values. Reload the page and try again.',
    'apiErrors.environment.unavailable': 'Environments are not available on this server.',
  },
  fr: {
    'apiErrors.builderRequired':
      'Seuls les builders enregistrent leurs propres applications. Devenez d’abord builder sur cette page.',
    'apiErrors.clientNotFound': 'Vous n’avez pas d’application de ce nom.',
    'apiErrors.accountNotFound': 'Ce compte n’existe pas.',
    'apiErrors.platformOwnerRequired': 'Seul le propriétaire de la plateforme peut faire cela.',
    'apiErrors.clientLimit': {
      one: 'Vous pouvez avoir au plus {count} application à vous. Supprimez-en une d’abord.',
      other: 'Vous pouvez avoir au plus {count} applications à vous. Supprimez-en une d’abord.',
    },
    'apiErrors.publicClient': 'Cette application est publique\u202f: elle n’a pas de secret à renouveler.',
    'apiErrors.clientNotSaved': 'Cette application n’a pas pu être enregistrée\u202f: {detail}',
    'apiErrors.environment.notFound':
      'Cet environnement n’existe pas, ou il appartient à quelqu’un que vous ne pouvez pas voir.',
    'apiErrors.environment.unknownTemplate': 'Il n’existe pas de modèle d’environnement «\u202f{template}\u202f».',
    'apiErrors.environment.unknownRegion':
      'La région «\u202f{region}\u202f» n’est pas proposée. Choisissez-en une parmi\u202f: {regions}.',
    'apiErrors.environment.forbidden': 'Votre rôle dans cette organisation ne le permet pas.',
    'apiErrors.environment.personalLimit': {
      one: 'Vous pouvez avoir au plus {count} environnement à vous. Supprimez-en un d’abord.',
      other: 'Vous pouvez avoir au plus {count} environnements à vous. Supprimez-en un d’abord.',
    },
    'apiErrors.environment.planLimit': {
      one: 'L’offre {plan} de l’organisation permet {count} environnement. Supprimez-en un ou changez d’offre.',
      other: 'L’offre {plan} de l’organisation permet {count} environnements. Supprimez-en un ou changez d’offre.',
    },
    'apiErrors.environment.cannotPay':
      'Cet environnement coûte {price} DUST par heure entamée, et le portefeuille n’en contient pas assez.',
    'apiErrors.environment.cannotStart': 'Cet environnement ne peut pas être démarré maintenant ({state}).',
    'apiErrors.environment.cannotStop': 'Cet environnement ne peut pas être arrêté maintenant ({state}).',
    'apiErrors.environment.cannotDelete': 'Cet environnement ne peut pas être supprimé maintenant ({state}).',
    'apiErrors.environment.cannotKeepRunning':
      'Cet environnement n’est pas en marche ({state})\u202f: il n’y a rien à maintenir.',
    'apiErrors.environment.cannotChange': 'Cet environnement ne peut pas être modifié maintenant ({state}).',
    'apiErrors.environment.formExpired': 'Ce formulaire a expiré. Rechargez la page et réessayez.',
    'apiErrors.environment.formReused':
      'Ce formulaire a déjà été envoyé avec d’autres valeurs. Rechargez la page et réessayez.',
    'apiErrors.environment.unavailable': 'Les environnements ne sont pas disponibles sur ce serveur.',
  },
});
