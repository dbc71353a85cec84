// Every string of the interface, in French (the default) and English, in one table.
// A message is a string or [singular, plural] chosen by the `n` variable; {name} is replaced by
// the variable `name`. The English table must have exactly the French keys (the type checks it).

import type { BoardKind, ProjectRole } from './api'
import type { NoteColor } from './board/schema'

export type Language = 'fr' | 'en'
type Message = string | readonly [string, string]

const fr = {
  'app.name': 'Atelier',
  'lang.switch': 'English',
  'lang.switchLabel': 'English version',
  'nav.label': 'Navigation principale',
  'nav.projects': 'Projets',
  'nav.skip': 'Aller au contenu',
  'common.loading': 'Chargement…',
  'common.save': 'Enregistrer',
  'common.cancel': 'Annuler',
  'common.close': 'Fermer',
  'error.network': 'Le serveur ne répond pas. Vérifiez la connexion et réessayez.',
  'error.forbidden': 'Votre rôle ne permet pas cette action.',
  'error.notFound': 'Introuvable, ou vous n’y avez pas accès.',
  'error.invalid': 'Vérifiez les champs saisis.',
  'error.generic': 'Une erreur est survenue. Réessayez.',
  'notFound.title': 'Page introuvable',
  'notFound.back': 'Retour à l’accueil',

  'signin.title': 'Connexion',
  'signin.intro': 'Connectez-vous avec le compte fourni par votre organisation.',
  'signin.email': 'Adresse e-mail',
  'signin.password': 'Mot de passe',
  'signin.submit': 'Se connecter',
  'signin.wrong': 'Adresse e-mail ou mot de passe incorrect.',
  'signin.tooMany': 'Trop de tentatives. Réessayez dans quelques minutes.',
  'signin.signOut': 'Se déconnecter',
  'signin.signOutShort': 'Déconnexion',
  'signin.signedOut': 'Vous êtes déconnecté·e. Les copies hors ligne des tableaux ont été effacées de cet appareil.',
  'signin.expired': 'Votre session a expiré. Connectez-vous à nouveau.',

  'projects.title': 'Projets',
  'projects.none': 'Vous ne participez encore à aucun projet.',
  'projects.create': 'Nouveau projet',
  'projects.name': 'Nom du projet',
  'projects.createButton': 'Créer le projet',
  'project.yourRole': 'Votre rôle : {role}',

  'boards.title': 'Tableaux',
  'boards.none': 'Aucun tableau pour l’instant.',
  'boards.showArchived': 'Afficher les tableaux archivés',
  'boards.archived': 'Archivé',
  'boards.create': 'Nouveau tableau',
  'boards.boardTitle': 'Titre',
  'boards.kind': 'Type d’atelier',
  'boards.createButton': 'Créer le tableau',
  'boards.created': 'Tableau créé.',
  'boards.rename': 'Renommer',
  'boards.renameLabel': 'Renommer « {title} »',
  'boards.newTitle': 'Nouveau titre',
  'boards.renamed': 'Tableau renommé.',
  'boards.archive': 'Archiver',
  'boards.archiveLabel': 'Archiver « {title} »',
  'boards.archivedDone': 'Tableau archivé : il est maintenant en lecture seule.',
  'boards.restore': 'Restaurer',
  'boards.restoreLabel': 'Restaurer « {title} »',
  'boards.restored': 'Tableau restauré.',

  'kind.postit': 'Post-it',
  'kind.demarreur': 'Démarreur bienveillant',
  'kind.mandats': 'Fabrique des mandats',
  'kind.prototypes': 'Atelier des prototypes',
  'kind.radar': 'Radar du futur',
  'kind.free': 'Libre',

  'role.owner': 'propriétaire',
  'role.facilitator': 'animateur·rice',
  'role.editor': 'contributeur·rice',
  'role.viewer': 'lecteur·rice',

  'members.title': 'Membres',
  'members.name': 'Nom',
  'members.email': 'E-mail',
  'members.role': 'Rôle',
  'members.none': 'Aucun membre.',

  'invite.open': 'Inviter',
  'invite.openLabel': 'Inviter des participant·es à « {title} »',
  'invite.title': 'Inviter à « {title} »',
  'invite.intro': 'Toute personne qui a le lien rejoint ce tableau sans compte, sous le nom qu’elle choisit, jusqu’à l’expiration du lien.',
  'invite.role': 'Les invité·es peuvent',
  'invite.role.editor': 'contribuer',
  'invite.role.viewer': 'seulement regarder',
  'invite.expiry': 'Le lien expire dans',
  'invite.expiry.hours': '{n} heures',
  'invite.expiry.day': '{n} jour',
  'invite.expiry.days': '{n} jours',
  'invite.create': 'Créer le lien',
  'invite.ready': 'Lien d’invitation',
  'invite.link': 'Lien d’invitation',
  'invite.copy': 'Copier le lien',
  'invite.copied': 'Lien copié.',
  'invite.expires': 'Les invité·es pourront {role} jusqu’au {date}.',
  'invite.qrLabel': 'QR code du lien d’invitation',
  'invite.qrCaption': 'À scanner avec un téléphone ou une tablette pour rejoindre le tableau.',

  'join.title': 'Rejoindre l’atelier',
  'join.intro': 'Vous êtes invité·e à participer à un tableau. Choisissez le nom que les autres verront.',
  'join.name': 'Votre nom ou prénom',
  'join.privacy': 'Pas de compte, pas d’e-mail. En quittant, rien du tableau ne reste sur cet appareil.',
  'join.submit': 'Rejoindre',
  'join.invalid': 'Ce lien d’invitation n’est plus valable (expiré ou révoqué). Demandez-en un nouveau à l’animation.',
  'join.badName': 'Le nom doit faire de 1 à 80 caractères.',

  'board.canvasLabel': 'Tableau « {title} »',
  'board.canvasRole': 'tableau blanc',
  'board.backToProject': 'Retour au projet',
  'board.leave': 'Quitter',
  'board.left': 'Vous avez quitté le tableau. Rien n’en est resté sur cet appareil.',
  'board.readOnly': 'Lecture seule',
  'board.readOnlyAnnounce': 'Lecture seule : vous ne pouvez pas modifier ce tableau.',

  'toolbar.label': 'Outils du tableau',
  'toolbar.zoomLabel': 'Zoom',
  'toolbar.addNote': 'Ajouter une note',
  'toolbar.boxSelect': 'Sélection par zone',
  'toolbar.undo': 'Annuler',
  'toolbar.redo': 'Rétablir',
  'toolbar.color': 'Couleur des notes',
  'toolbar.front': 'Mettre au premier plan',
  'toolbar.duplicate': 'Dupliquer',
  'toolbar.delete': 'Supprimer',
  'toolbar.zoomIn': 'Zoom avant',
  'toolbar.zoomOut': 'Zoom arrière',
  'toolbar.fit': 'Tout afficher',

  'color.yellow': 'jaune',
  'color.orange': 'orange',
  'color.pink': 'rose',
  'color.violet': 'violet',
  'color.blue': 'bleu',
  'color.green': 'vert',

  'note.role': 'note',
  'note.empty': 'note vide',
  'note.selected': 'sélectionnée',
  'note.editLabel': 'Texte de la note',
  'note.keyboardHint': 'Entrée pour écrire, flèches pour déplacer (Maj : plus loin, Alt : redimensionner), Suppr pour effacer, Échap pour désélectionner.',
  'note.created': 'Note ajoutée. Écrivez son texte ; Échap pour terminer.',
  'note.deleted': ['Note supprimée.', '{n} notes supprimées.'],
  'note.duplicated': ['Note dupliquée.', '{n} notes dupliquées.'],
  'note.colored': 'Couleur : {color}.',
  'selection.count': ['{n} note sélectionnée.', '{n} notes sélectionnées.'],

  'outline.title': 'Plan du tableau',
  'outline.toggle': 'Plan',
  'outline.count': ['{n} note', '{n} notes'],
  'outline.item': 'Note {n} : {text} ({details})',
  'outline.votes': ['{n} vote', '{n} votes'],

  'presence.label': ['{n} participant·e', '{n} participant·es'],
  'presence.you': '{name} (vous)',
  'presence.guest': 'invité·e',

  'status.connecting': 'Connexion…',
  'status.connected': 'Connecté',
  'status.reconnecting': 'Reconnexion…',
  'status.offline': 'Hors ligne',
  'status.revoked': 'Accès retiré',
  'status.deleted': 'Tableau supprimé',
  'status.savedIdle': 'Aucune modification',
  'status.savedPending': 'Enregistrement…',
  'status.savedLocal': 'Modifications gardées sur cet appareil, envoyées au retour de la connexion',
  'status.saved': 'Enregistré',
  'status.savedRefused': 'Modifications refusées, non enregistrées',
  'status.reload': 'Recharger le tableau',
  'status.readOnly.viewer': 'Lecture seule : votre rôle permet de regarder, pas de modifier',
  'status.readOnly.archived': 'Lecture seule : ce tableau est archivé',
  'status.readOnly.denied': 'Lecture seule : le serveur a refusé vos modifications',
  'status.zoom': 'Zoom {pct} %'
} as const satisfies Record<string, Message>

export type MessageKey = keyof typeof fr

const en: Record<MessageKey, Message> = {
  'app.name': 'Atelier',
  'lang.switch': 'Français',
  'lang.switchLabel': 'Version française',
  'nav.label': 'Main navigation',
  'nav.projects': 'Projects',
  'nav.skip': 'Skip to content',
  'common.loading': 'Loading…',
  'common.save': 'Save',
  'common.cancel': 'Cancel',
  'common.close': 'Close',
  'error.network': 'The server does not answer. Check the connection and try again.',
  'error.forbidden': 'Your role does not allow this.',
  'error.notFound': 'Not found, or you do not have access to it.',
  'error.invalid': 'Please check the fields.',
  'error.generic': 'Something went wrong. Please try again.',
  'notFound.title': 'Page not found',
  'notFound.back': 'Back to the home page',

  'signin.title': 'Sign in',
  'signin.intro': 'Sign in with the account your organisation gave you.',
  'signin.email': 'Email address',
  'signin.password': 'Password',
  'signin.submit': 'Sign in',
  'signin.wrong': 'Wrong email address or password.',
  'signin.tooMany': 'Too many attempts. Try again in a few minutes.',
  'signin.signOut': 'Sign out',
  'signin.signOutShort': 'Sign out',
  'signin.signedOut': 'You are signed out. Offline copies of boards were erased from this device.',
  'signin.expired': 'Your session has expired. Please sign in again.',

  'projects.title': 'Projects',
  'projects.none': 'You are not in any project yet.',
  'projects.create': 'New project',
  'projects.name': 'Project name',
  'projects.createButton': 'Create the project',
  'project.yourRole': 'Your role: {role}',

  'boards.title': 'Boards',
  'boards.none': 'No boards yet.',
  'boards.showArchived': 'Show archived boards',
  'boards.archived': 'Archived',
  'boards.create': 'New board',
  'boards.boardTitle': 'Title',
  'boards.kind': 'Workshop kind',
  'boards.createButton': 'Create the board',
  'boards.created': 'Board created.',
  'boards.rename': 'Rename',
  'boards.renameLabel': 'Rename “{title}”',
  'boards.newTitle': 'New title',
  'boards.renamed': 'Board renamed.',
  'boards.archive': 'Archive',
  'boards.archiveLabel': 'Archive “{title}”',
  'boards.archivedDone': 'Board archived: it is now read-only.',
  'boards.restore': 'Restore',
  'boards.restoreLabel': 'Restore “{title}”',
  'boards.restored': 'Board restored.',

  'kind.postit': 'Sticky notes',
  'kind.demarreur': 'Kind starter',
  'kind.mandats': 'Mandate factory',
  'kind.prototypes': 'Prototype workshop',
  'kind.radar': 'Future radar',
  'kind.free': 'Free',

  'role.owner': 'owner',
  'role.facilitator': 'facilitator',
  'role.editor': 'editor',
  'role.viewer': 'viewer',

  'members.title': 'Members',
  'members.name': 'Name',
  'members.email': 'Email',
  'members.role': 'Role',
  'members.none': 'No members.',

  'invite.open': 'Invite',
  'invite.openLabel': 'Invite participants to “{title}”',
  'invite.title': 'Invite to “{title}”',
  'invite.intro': 'Anyone with the link joins this board without an account, under a name they choose, until the link expires.',
  'invite.role': 'Guests can',
  'invite.role.editor': 'contribute',
  'invite.role.viewer': 'only watch',
  'invite.expiry': 'The link expires in',
  'invite.expiry.hours': '{n} hours',
  'invite.expiry.day': '{n} day',
  'invite.expiry.days': '{n} days',
  'invite.create': 'Create the link',
  'invite.ready': 'Invitation link',
  'invite.link': 'Invitation link',
  'invite.copy': 'Copy the link',
  'invite.copied': 'Link copied.',
  'invite.expires': 'Guests can {role} until {date}.',
  'invite.qrLabel': 'QR code of the invitation link',
  'invite.qrCaption': 'Scan it with a phone or tablet to join the board.',

  'join.title': 'Join the workshop',
  'join.intro': 'You are invited to take part in a board. Choose the name others will see.',
  'join.name': 'Your name or first name',
  'join.privacy': 'No account, no email. When you leave, nothing of the board stays on this device.',
  'join.submit': 'Join',
  'join.invalid': 'This invitation link is no longer valid (expired or revoked). Ask the facilitators for a new one.',
  'join.badName': 'The name must be 1 to 80 characters long.',

  'board.canvasLabel': 'Board “{title}”',
  'board.canvasRole': 'whiteboard',
  'board.backToProject': 'Back to the project',
  'board.leave': 'Leave',
  'board.left': 'You left the board. Nothing of it stayed on this device.',
  'board.readOnly': 'Read-only',
  'board.readOnlyAnnounce': 'Read-only: you cannot change this board.',

  'toolbar.label': 'Board tools',
  'toolbar.zoomLabel': 'Zoom',
  'toolbar.addNote': 'Add a note',
  'toolbar.boxSelect': 'Box selection',
  'toolbar.undo': 'Undo',
  'toolbar.redo': 'Redo',
  'toolbar.color': 'Note colour',
  'toolbar.front': 'Bring to front',
  'toolbar.duplicate': 'Duplicate',
  'toolbar.delete': 'Delete',
  'toolbar.zoomIn': 'Zoom in',
  'toolbar.zoomOut': 'Zoom out',
  'toolbar.fit': 'Show everything',

  'color.yellow': 'yellow',
  'color.orange': 'orange',
  'color.pink': 'pink',
  'color.violet': 'violet',
  'color.blue': 'blue',
  'color.green': 'green',

  'note.role': 'note',
  'note.empty': 'empty note',
  'note.selected': 'selected',
  'note.editLabel': 'Note text',
  'note.keyboardHint': 'Enter to write, arrows to move (Shift: further, Alt: resize), Delete to remove, Escape to deselect.',
  'note.created': 'Note added. Type its text; Escape to finish.',
  'note.deleted': ['Note deleted.', '{n} notes deleted.'],
  'note.duplicated': ['Note duplicated.', '{n} notes duplicated.'],
  'note.colored': 'Colour: {color}.',
  'selection.count': ['{n} note selected.', '{n} notes selected.'],

  'outline.title': 'Board outline',
  'outline.toggle': 'Outline',
  'outline.count': ['{n} note', '{n} notes'],
  'outline.item': 'Note {n}: {text} ({details})',
  'outline.votes': ['{n} vote', '{n} votes'],

  'presence.label': ['{n} participant', '{n} participants'],
  'presence.you': '{name} (you)',
  'presence.guest': 'guest',

  'status.connecting': 'Connecting…',
  'status.connected': 'Connected',
  'status.reconnecting': 'Reconnecting…',
  'status.offline': 'Offline',
  'status.revoked': 'Access withdrawn',
  'status.deleted': 'Board deleted',
  'status.savedIdle': 'No changes',
  'status.savedPending': 'Saving…',
  'status.savedLocal': 'Changes kept on this device, sent when the connection is back',
  'status.saved': 'Saved',
  'status.savedRefused': 'Changes refused, not saved',
  'status.reload': 'Reload the board',
  'status.readOnly.viewer': 'Read-only: your role lets you watch, not change',
  'status.readOnly.archived': 'Read-only: this board is archived',
  'status.readOnly.denied': 'Read-only: the server refused your changes',
  'status.zoom': 'Zoom {pct} %'
}

const tables: Record<Language, Record<MessageKey, Message>> = { fr, en }
const STORAGE_KEY = 'atelier.lang'

function initialLanguage (): Language {
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    if (saved === 'fr' || saved === 'en') return saved
  } catch { /* storage unavailable */ }
  // French by default, whatever the browser says: the workshops are French first.
  return 'fr'
}

let current: Language = initialLanguage()
const listeners = new Set<() => void>()

export function lang (): Language { return current }

/** Sets <html lang> to the current language. */
export function applyLanguage (): void {
  document.documentElement.lang = current
}

export function setLanguage (next: Language): void {
  if (next === current) return
  current = next
  try { localStorage.setItem(STORAGE_KEY, next) } catch { /* not kept */ }
  applyLanguage()
  for (const fn of listeners) fn()
}

export function onLanguageChange (fn: () => void): () => void {
  listeners.add(fn)
  return () => listeners.delete(fn)
}

/** The message `key` in the current language, with {variables} replaced. */
export function t (key: MessageKey, vars: Record<string, string | number> = {}): string {
  const message = tables[current][key] ?? fr[key]
  let text: string
  if (typeof message === 'string') {
    text = message
  } else {
    const n = Number(vars.n ?? 0)
    // French: 0 and 1 are singular; English: only 1.
    const singular = current === 'fr' ? Math.abs(n) < 2 : n === 1
    text = singular ? message[0] : message[1]
  }
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole))
}

export const kindLabel = (kind: BoardKind): string => t(`kind.${kind}`)
export const roleLabel = (role: ProjectRole): string => t(`role.${role}`)
export const colorLabel = (color: NoteColor): string => t(`color.${color}`)
