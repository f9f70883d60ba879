import { defineMessages } from '../define-messages.ts';

/** An invitation to join an organization, and the names of the roles it can give. */
export const invitationMessages = defineMessages({
  en: {
    'invitation.title': 'Join {organization}',
    'invitation.lead.owner':
      'You are invited to join <strong>{organization}</strong> as an <strong>owner</strong>. The invitation was sent to <strong>{email}</strong>.',
    'invitation.lead.admin':
      'You are invited to join <strong>{organization}</strong> as an <strong>admin</strong>. The invitation was sent to <strong>{email}</strong>.',
    'invitation.lead.member':
      'You are invited to join <strong>{organization}</strong> as a <strong>member</strong>. The invitation was sent to <strong>{email}</strong>.',
    'invitation.lead.billing':
      'You are invited to join <strong>{organization}</strong> as a <strong>billing</strong> member. The invitation was sent to <strong>{email}</strong>.',
    'invitation.role.owner': 'owner',
    'invitation.role.admin': 'admin',
    'invitation.role.member': 'member',
    'invitation.role.billing': 'billing',
    'invitation.accept': 'Accept and join',
    'invitation.decline': 'Decline',
    'invitation.otherAccount': 'You are signed in as {account}. Sign in as {email} to answer.',
    'invitation.signInAs': 'Sign in as {email}',
    'invitation.noAccount': 'No account yet? Signing in creates one: we email you a code, no password needed.',
  },
  fr: {
    'invitation.title': 'Rejoindre {organization}',
    'invitation.lead.owner':
      'Vous avez reçu une invitation à rejoindre <strong>{organization}</strong> avec le rôle <strong>propriétaire</strong>. Elle a été envoyée à <strong>{email}</strong>.',
    'invitation.lead.admin':
      'Vous avez reçu une invitation à rejoindre <strong>{organization}</strong> avec le rôle <strong>administration</strong>. Elle a été envoyée à <strong>{email}</strong>.',
    'invitation.lead.member':
      'Vous avez reçu une invitation à rejoindre <strong>{organization}</strong> avec le rôle <strong>membre</strong>. Elle a été envoyée à <strong>{email}</strong>.',
    'invitation.lead.billing':
      'Vous avez reçu une invitation à rejoindre <strong>{organization}</strong> avec le rôle <strong>facturation</strong>. Elle a été envoyée à <strong>{email}</strong>.',
    'invitation.role.owner': 'propriétaire',
    'invitation.role.admin': 'administration',
    'invitation.role.member': 'membre',
    'invitation.role.billing': 'facturation',
    'invitation.accept': 'Accepter et rejoindre',
    'invitation.decline': 'Refuser',
    'invitation.otherAccount': 'Votre compte connecté est {account}. Connectez-vous avec {email} pour répondre.',
    'invitation.signInAs': 'Se connecter avec {email}',
    'invitation.noAccount':
      'Pas encore de compte\u202f? La connexion en crée un\u202f: nous vous envoyons un code par e-mail, sans mot de passe.',
  },
});
