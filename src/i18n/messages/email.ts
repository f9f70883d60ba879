import { defineMessages } from '../define-messages.ts';

/** Every email FairyID sends: subjects and bodies (plain text; lines joined with \n). */
export const emailMessages = defineMessages({
  en: {
    'email.signIn.subject': '{code} is your FairyID sign-in code',
    'email.signIn.body':
      'Your FairyID sign-in code is {code}.\n\nIt expires in {lifetime} and works once.\nIf you did not try to sign in, you can ignore this email: nobody can sign in without the code.',
    'email.identifierChange.subject': '{code} is your code to confirm this email for FairyID',
    'email.identifierChange.body':
      'Someone signed in to FairyID asked to use this email address for their account. The code to confirm it is {code}.\n\nIt expires in {lifetime} and works once.\nIf that was not you, ignore this email: without the code, this address is not added to any account.',
    'email.identifierChanged.subject': 'Your FairyID account no longer signs in with this email',
    'email.identifierChanged.body':
      'The email address of your FairyID account was changed to {address}, and this address no longer signs in to it.\n\nIf you made this change, there is nothing to do. If you did not, sign in at {link} with your phone number or passkey,\nsign out the devices you do not know, and change the address back.',
    'email.accountDeleted.subject': 'Your FairyID account was deleted',
    'email.accountDeleted.body':
      'Your FairyID account, which signed in with this address, was deleted just now.\n\nYour profile, sign-in methods, devices, app connections and organization memberships are gone.\nApps you used with FairyID may keep what they received from it; ask them to delete it.\n\nIf this was not you, someone had access to your account. You can sign up again at {link};\nit will be a new account.',
    'email.invitation.subject': 'You are invited to join {organization} on FairyID',
    'email.invitation.body':
      'You are invited to join {organization} on FairyID {role}.\n\nAccept or decline here: {link}\n\nThe link works until {expires}, once, for {address}.\nIf you do not know this organization, ignore this email.',
    'email.invitation.role.owner': 'as an owner',
    'email.invitation.role.admin': 'as an admin',
    'email.invitation.role.member': 'as a member',
    'email.invitation.role.billing': 'as a billing manager',
    'email.webhookDisabled.subject': 'A webhook endpoint was disabled',
    'email.webhookDisabled.body':
      'FairyID stopped sending events to {url} ({where}): it was {reason}.\nDeliveries still pending are kept and resume once it is enabled again; events that happen while it is\ndisabled are not sent to it. When it answers again, enable it with the API:\nPATCH {link} with {"enabled": true}.',
    'email.webhookDisabled.organization': 'organization {id}',
    'email.webhookDisabled.platform': 'platform',
    'email.environment.lowBalance.subject': '{name}: DUST for less than an hour left',
    'email.environment.lowBalance.body':
      'Your environment {name} costs {price} DUST per started hour, and the wallet paying for it holds {balance} DUST.\nWhen it cannot pay for the next hour, FairyID stops it (your files are kept).\n\nAdd DUST or stop it yourself: {link}',
    'email.environment.stoppedUnpaid.subject': '{name} was stopped: not enough DUST',
    'email.environment.stoppedUnpaid.body':
      'Your environment {name} was stopped because its wallet could not pay the next hour ({price} DUST).\nNothing was deleted: the files under /home are kept. Start it again once the wallet holds enough DUST.\n\n{link}',
    'email.environment.idleWarning.subject': '{name} will stop soon: nobody has used it for a while',
    'email.environment.idleWarning.body':
      'Your environment {name} has had no terminal activity for a while. FairyID will stop it at {stopAt} to save your DUST (files are kept).\n\nStill working? Choose "Keep it running" here: {link}',
    'email.environment.stoppedIdle.subject': '{name} was stopped after being idle',
    'email.environment.stoppedIdle.body':
      'Your environment {name} was stopped after a warning because nobody used it. Your files are kept; start it again whenever you like.\n\n{link}',
  },
  fr: {
    'email.signIn.subject': '{code} est votre code de connexion FairyID',
    'email.signIn.body':
      'Votre code de connexion FairyID est {code}.\n\nIl expire dans {lifetime} et ne fonctionne qu’une fois.\nSi vous n’avez pas essayé de vous connecter, vous pouvez ignorer cet e-mail : personne ne peut se connecter sans ce code.',
    'email.identifierChange.subject': '{code} est votre code pour confirmer cette adresse e-mail sur FairyID',
    'email.identifierChange.body':
      'Une personne connectée à FairyID a demandé à utiliser cette adresse e-mail pour son compte. Le code pour la confirmer est {code}.\n\nIl expire dans {lifetime} et ne fonctionne qu’une fois.\nSi ce n’était pas vous, ignorez cet e-mail : sans ce code, cette adresse n’est ajoutée à aucun compte.',
    'email.identifierChanged.subject': 'Votre compte FairyID ne se connecte plus avec cette adresse e-mail',
    'email.identifierChanged.body':
      'L’adresse e-mail de votre compte FairyID a été remplacée par {address}, et cette adresse ne permet plus de vous y connecter.\n\nSi vous êtes à l’origine de ce changement, vous n’avez rien à faire. Sinon, connectez-vous sur {link} avec votre numéro de téléphone ou votre clé d’accès,\ndéconnectez les appareils que vous ne reconnaissez pas, et rétablissez l’adresse.',
    'email.accountDeleted.subject': 'Votre compte FairyID a été supprimé',
    'email.accountDeleted.body':
      'Votre compte FairyID, qui se connectait avec cette adresse, vient d’être supprimé.\n\nVotre profil, vos moyens de connexion, vos appareils, vos applications connectées et vos adhésions à des organisations ont disparu.\nLes applications que vous avez utilisées avec FairyID peuvent conserver ce qu’elles en ont reçu ; demandez-leur de le supprimer.\n\nSi ce n’était pas vous, quelqu’un avait accès à votre compte. Vous pouvez vous inscrire de nouveau sur {link} ;\nce sera un nouveau compte.',
    'email.invitation.subject': 'Invitation à rejoindre {organization} sur FairyID',
    'email.invitation.body':
      '{organization} vous invite à la rejoindre sur FairyID {role}.\n\nAcceptez ou refusez ici : {link}\n\nLe lien fonctionne jusqu’au {expires}, une seule fois, pour {address}.\nSi vous ne connaissez pas cette organisation, ignorez cet e-mail.',
    'email.invitation.role.owner': 'en tant que propriétaire',
    'email.invitation.role.admin': 'en tant qu’administrateur',
    'email.invitation.role.member': 'en tant que membre',
    'email.invitation.role.billing': 'en tant que responsable de la facturation',
    'email.webhookDisabled.subject': 'Un point de terminaison de webhook a été désactivé',
    'email.webhookDisabled.body':
      'FairyID a cessé d’envoyer des événements à {url} ({where}) : il a été {reason}.\nLes envois en attente sont conservés et reprendront dès qu’il sera réactivé ; les événements survenus pendant\nsa désactivation ne lui sont pas envoyés. Quand il répondra de nouveau, réactivez-le avec l’API :\nPATCH {link} avec {"enabled": true}.',
    'email.webhookDisabled.organization': 'organisation {id}',
    'email.webhookDisabled.platform': 'plateforme',
    'email.environment.lowBalance.subject': '{name} : il reste moins d’une heure de DUST',
    'email.environment.lowBalance.body':
      'Votre environnement {name} coûte {price} DUST par heure commencée, et le portefeuille qui le paie contient {balance} DUST.\nQuand il ne pourra plus payer l’heure suivante, FairyID l’arrêtera (vos fichiers sont conservés).\n\nAjoutez des DUST ou arrêtez-le vous-même : {link}',
    'email.environment.stoppedUnpaid.subject': '{name} a été arrêté : DUST insuffisants',
    'email.environment.stoppedUnpaid.body':
      'Votre environnement {name} a été arrêté, car son portefeuille ne pouvait pas payer l’heure suivante ({price} DUST).\nRien n’a été supprimé : les fichiers sous /home sont conservés. Redémarrez-le dès que le portefeuille contient assez de DUST.\n\n{link}',
    'email.environment.idleWarning.subject': '{name} va bientôt s’arrêter : personne ne l’a utilisé depuis un moment',
    'email.environment.idleWarning.body':
      'Votre environnement {name} n’a eu aucune activité dans le terminal depuis un moment. FairyID l’arrêtera le {stopAt} pour économiser vos DUST (les fichiers sont conservés).\n\nVous travaillez encore ? Choisissez « Le garder en marche » ici : {link}',
    'email.environment.stoppedIdle.subject': '{name} a été arrêté faute d’activité',
    'email.environment.stoppedIdle.body':
      'Votre environnement {name} a été arrêté après un avertissement, car personne ne l’utilisait. Vos fichiers sont conservés ; redémarrez-le quand vous voulez.\n\n{link}',
  },
});
