import { defineMessages } from '../define-messages.ts';

/** Signing in with, and linking, upstream identity providers (src/federation/, /account/providers). */
export const upstreamMessages = defineMessages({
  en: {
    'upstream.theProvider': 'The sign-in provider',
    'upstream.theProviderInSentence': 'the sign-in provider',
    'upstream.notAnswering': '{provider} is not answering just now. Try again in a moment, or sign in another way.',
    'upstream.denied': 'You did not allow signing in with {provider}. You can sign in another way.',
    'upstream.unavailable': '{provider} did not answer in time. Try again in a moment, or sign in another way.',
    'upstream.refused':
      '{provider} could not confirm who you are, so you are not signed in. Try again, or sign in another way.',
    'upstream.linked': 'Linked. You can now sign in with it.',
    'upstream.unlinked': 'Unlinked. That account no longer signs you in here.',
    'upstream.alreadyLinked': 'That account was already linked to yours. It is connected again.',
    'upstream.unknownLinkAnswer':
      'This answer does not belong to a link you started here: it expired, was already used, or was meant for another browser. Try again.',
    'upstream.notLinked': 'That sign-in provider is not linked to your account.',
    'upstream.lastMethod':
      'This is the only way you sign in. Add an email address, a phone number or a passkey first, then unlink it.',
    'upstream.linkNotAnswering': '{provider} is not answering just now. Try again in a moment.',
    'upstream.linkTaken':
      'That {provider} account already signs in to another FairyID account, so it was not linked to this one.',
    'upstream.linkDenied': 'You did not allow linking {provider}.',
    'upstream.linkUnavailable': '{provider} did not answer in time. Try again in a moment.',
    'upstream.linkRefused': '{provider} could not confirm who you are, so nothing was linked.',
  },
  fr: {
    'upstream.theProvider': 'Le fournisseur de connexion',
    'upstream.theProviderInSentence': 'le fournisseur de connexion',
    'upstream.notAnswering':
      '{provider} ne répond pas pour le moment. Réessayez dans un instant, ou connectez-vous autrement.',
    'upstream.denied': 'Vous n’avez pas autorisé la connexion avec {provider}. Vous pouvez vous connecter autrement.',
    'upstream.unavailable':
      '{provider} n’a pas répondu à temps. Réessayez dans un instant, ou connectez-vous autrement.',
    'upstream.refused':
      '{provider} n’a pas pu confirmer votre identité : la connexion n’a donc pas abouti. Réessayez, ou connectez-vous autrement.',
    'upstream.linked': 'Compte associé. Vous pouvez désormais l’utiliser pour vous connecter.',
    'upstream.unlinked': 'Compte dissocié. Il ne vous permet plus de vous connecter ici.',
    'upstream.alreadyLinked': 'Ce compte était déjà associé au vôtre. Il est de nouveau connecté.',
    'upstream.unknownLinkAnswer':
      'Cette réponse ne correspond à aucune association commencée ici : elle a expiré, a déjà été utilisée, ou était destinée à un autre navigateur. Réessayez.',
    'upstream.notLinked': 'Ce fournisseur de connexion n’est pas associé à votre compte.',
    'upstream.lastMethod':
      'C’est votre seul moyen de connexion. Ajoutez d’abord une adresse e-mail, un numéro de téléphone ou une clé d’accès, puis dissociez-le.',
    'upstream.linkNotAnswering': '{provider} ne répond pas pour le moment. Réessayez dans un instant.',
    'upstream.linkTaken':
      'Ce compte {provider} permet déjà de se connecter à un autre compte FairyID ; il n’a donc pas été associé à celui-ci.',
    'upstream.linkDenied': 'Vous n’avez pas autorisé l’association de {provider}.',
    'upstream.linkUnavailable': '{provider} n’a pas répondu à temps. Réessayez dans un instant.',
    'upstream.linkRefused': '{provider} n’a pas pu confirmer votre identité : rien n’a été associé.',
  },
});
