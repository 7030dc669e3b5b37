/** French. Typed as `Catalog`, so a missing or extra key is a compile error. */
import type { Catalog, GenericCatalog, NoCommandCatalog } from './en.js';

export const fr: Catalog = {
  'lang.name': 'Français',
  'app.title': 'Connexion du CLI {provider}',
  'app.brand': '{client}',

  'entry.heading': 'Connecter le CLI {provider}',
  'entry.lead': 'Saisissez le code affiché dans votre terminal.',
  'entry.label': 'Code affiché dans votre terminal',
  'entry.hint': '8 lettres, par exemple BCDF-GHJK. En majuscules ou en minuscules, avec ou sans tiret.',
  'entry.submit': 'Continuer',
  'entry.login_title': 'Connectez-vous d’abord à {provider}',
  'entry.login_first':
    'Vérifiez que vous êtes connecté à {provider} dans ce navigateur. Si {provider} affiche sa page de connexion en cours de route, il ne vous ramènera pas ici ensuite : connectez-vous, puis rouvrez l’adresse affichée dans votre terminal et saisissez à nouveau le même code.',

  'confirm.heading': 'Est-ce bien vous ?',
  'confirm.lead': 'Un appareil demande l’accès à votre compte {provider} via le CLI {provider}.',
  'confirm.compare': 'Vérifiez que votre terminal affiche ce code.',
  'confirm.device': 'L’appareil dit être',
  'confirm.address': 'Adresse IP',
  'confirm.requested': 'Demandé',
  'confirm.address_unknown': 'Inconnue',
  'confirm.network_same': 'Même réseau que ce navigateur',
  'confirm.network_different': 'Cette demande vient d’un autre réseau que ce navigateur.',
  'confirm.network_unknown': 'Impossible de dire s’il s’agit du réseau de ce navigateur',
  'confirm.consequences':
    '{provider} autorisera l’organisation actuellement sélectionnée dans {provider}. Approuver remplace votre propre connexion CLI précédente à cette organisation, si vous en avez une ; les connexions des autres membres ne sont pas touchées.',
  'confirm.warning':
    'Ne continuez que si vous avez lancé cette connexion vous-même, dans votre propre terminal, à l’instant. Si quelqu’un vous a envoyé ce lien ou ce code, annulez : cette personne essaie d’accéder à votre compte.',
  'confirm.more_title': 'Ce que fait l’approbation',
  'confirm.next':
    '{provider} va ensuite vous demander d’autoriser le CLI {provider}. S’il affiche plutôt sa page de connexion, connectez-vous, puis rouvrez l’adresse affichée dans votre terminal et saisissez à nouveau le même code.',
  'confirm.continue': 'Continuer vers {provider}',
  'confirm.cancel': 'Annuler',
  'confirm.type_lead': 'Le lien seul ne suffit pas ici.',
  'confirm.type_label': 'Code affiché dans votre terminal',
  'confirm.type_hint':
    'Si votre terminal n’affiche aucun code, ce n’est pas vous qui avez lancé cette connexion : annulez.',
  'confirm.replaces':
    'La dernière connexion CLI approuvée dans ce navigateur : le {when}, depuis {address}, {device}, pour {organization}. Si vous approuvez avec le même compte {provider} et la même organisation, {provider} met fin à cette connexion.',
  'confirm.replaces_no_org':
    'La dernière connexion CLI approuvée dans ce navigateur : le {when}, depuis {address}, {device}. Si vous approuvez avec le même compte {provider} et la même organisation, {provider} met fin à cette connexion.',

  'ago.now': 'à l’instant',
  'ago.seconds': 'il y a {n} secondes',
  'ago.minute': 'il y a 1 minute',
  'ago.minutes': 'il y a {n} minutes',

  'device.unknown': 'un programme inconnu',
  'device.on': '{agent} sous {os}',
  'device.postiz_cli': 'CLI postiz {version}',
  'device.node': 'le CLI postiz ou un autre programme Node.js',
  'device.curl': 'curl {version}',

  'done.approved.heading': 'Vous êtes connecté',
  'done.approved.body':
    'Retournez dans votre terminal : le CLI {provider} est maintenant connecté. Vous pouvez fermer cet onglet.',
  'done.approved.note':
    '{provider} ne conserve qu’une connexion CLI par personne et par organisation : si vous aviez déjà une connexion CLI à cette organisation, elle a pris fin. Les connexions des autres membres ne sont pas touchées.',
  'done.denied.heading': 'Accès refusé',
  'done.denied.body':
    'Vous avez refusé l’accès dans {provider}. Le CLI en a été informé et n’a rien reçu. Pour réessayer, lancez {command} dans votre terminal.',
  'done.cancelled.heading': 'Connexion annulée',
  'done.cancelled.body':
    'Rien n’a été partagé. Le CLI a été informé que la demande a été refusée. Pour réessayer, lancez {command} dans votre terminal.',
  'done.approved.checked': '{provider} a confirmé que la nouvelle connexion fonctionne.',
  'done.approved.unchecked':
    'Impossible de demander à {provider} si la nouvelle connexion fonctionne. Si le CLI signale plus tard des identifiants invalides, relancez {command}.',
  'done.approved.organization':
    '{provider} a autorisé {organization}. Pour utiliser une autre organisation, sélectionnez-la dans {provider}, puis relancez {command}.',
  'done.approved.replaced':
    'Si vous avez approuvé avec le même compte {provider} que la dernière connexion CLI approuvée dans ce navigateur (le {when}, depuis {address}, {device}), cette connexion ne fonctionne plus : {provider} ne conserve qu’une connexion CLI par personne et par organisation. Les connexions des autres membres ne sont pas touchées.',
  'done.organization_unknown': 'l’organisation sélectionnée dans {provider}',
  'org.channels': 'l’organisation avec {channels}',
  'org.id': 'l’organisation {id}',
  'org.channel': '{name} sur {platform}',
  'org.channel_disabled': '{name} sur {platform} (désactivé)',
  'org.platform_disabled': '{platform} (désactivé)',
  'org.more': '{n} autres',
  'org.id_note': 'Identifiant de l’organisation : {id}',
  'done.no_subscription.heading': 'Cette organisation n’a pas d’abonnement {provider}',
  'done.no_subscription.body':
    '{provider} a autorisé la connexion, mais refuse son API à {organization}, qui n’a pas d’abonnement. Abonnez-vous dans {provider}, ou sélectionnez-y une autre organisation, puis relancez {command}. Le CLI en a été informé et n’a rien enregistré.',
  'done.token_refused.heading': '{provider} a refusé la nouvelle connexion',
  'done.token_refused.body':
    '{provider} a autorisé la connexion, mais son API refuse les nouveaux identifiants de {organization}. Vérifiez cette organisation dans {provider}, puis relancez {command}. Le CLI en a été informé et n’a rien enregistré.',

  'error.invalid_code.heading': 'Ce code ne fonctionne pas',
  'error.invalid_code.body': 'Vérifiez le code affiché dans votre terminal et saisissez-le à nouveau.',
  'error.expired.heading': 'Ce code a expiré',
  'error.expired.body':
    'Les codes ne sont valables que quelques minutes. Relancez {command} dans votre terminal pour en obtenir un nouveau.',
  'error.already_used.heading': 'Ce code a déjà été utilisé',
  'error.already_used.body':
    'Cette connexion a déjà été menée à terme ou refusée. Relancez {command} dans votre terminal si nécessaire.',
  'error.rate_limited.heading': 'Trop de tentatives',
  'error.rate_limited.body':
    'Pour votre sécurité, aucun code ne peut être essayé depuis votre réseau pendant un moment.',
  'error.wrong_browser.heading': 'Terminez dans le même navigateur',
  'error.wrong_browser.body':
    'Cette connexion a été confirmée dans un autre navigateur, ou son cookie a été perdu. Rouvrez l’adresse affichée dans votre terminal dans ce navigateur, saisissez le code et confirmez-y la connexion.',
  'error.unknown_state.heading': 'Ce lien n’est plus valide',
  'error.unknown_state.body':
    'Il a déjà été utilisé, ou la connexion à laquelle il appartenait est terminée. Rouvrez l’adresse affichée dans votre terminal pour continuer.',
  'error.upstream_unavailable.heading': '{provider} a rencontré un problème',
  'error.upstream_unavailable.body':
    'Nous n’avons pas pu terminer la connexion avec {provider}. Votre terminal attend toujours : réessayez dans un instant.',
  'error.upstream_rejected.heading': '{provider} n’a pas accepté la connexion',
  'error.upstream_rejected.body':
    'L’autorisation donnée par {provider} n’a pas pu être utilisée (elle a peut-être expiré). Votre terminal attend toujours : réessayez.',
  'error.misconfigured.heading': 'Ce serveur n’est pas correctement configuré',
  'error.misconfigured.body':
    '{provider} a refusé les identifiants propres de ce serveur de connexion, qui n’a donc pas pu terminer votre connexion. Votre terminal attend toujours ; réessayez plus tard.',
  'error.forbidden.heading': 'Requête refusée',
  'error.forbidden.body':
    'Ce formulaire a été envoyé depuis un autre site ou a expiré. Rechargez la page et réessayez.',
  'error.wrong_origin.heading': 'Ouvrez l’adresse de votre terminal',
  'error.wrong_origin.body':
    'Cette page a été ouverte à une autre adresse de ce serveur que la sienne. Ouvrez l’adresse affichée dans votre terminal, dans ce navigateur, et saisissez-y le code.',
  'error.cookies_required.heading': 'Les cookies sont nécessaires',
  'error.cookies_required.body':
    'Cette page utilise un cookie pour protéger votre connexion. Autorisez les cookies pour ce site, rechargez la page et réessayez.',
  'error.bad_request.heading': 'Il manque quelque chose',
  'error.bad_request.body': 'Cette requête était incomplète. Rouvrez l’adresse affichée dans votre terminal.',
  'error.server_error.heading': 'Une erreur est survenue',
  'error.server_error.body':
    'Le serveur n’a pas pu répondre. Votre terminal attend toujours : réessayez dans un instant.',
  'error.cross_network.heading': 'Cette connexion ne peut pas être confirmée d’ici',
  'error.cross_network.body':
    'Elle a été lancée depuis un autre réseau que celui de ce navigateur, et ce serveur n’accepte une connexion que depuis le réseau où elle a commencé. Votre terminal en a été informé et n’attend plus. Pour vous connecter, lancez {command} sur cet ordinateur.',
  'error.code_mismatch.heading': 'Ce n’est pas le code de cette connexion',
  'error.code_mismatch.body': 'Saisissez le code affiché dans votre terminal, ou annulez.',
  'error.code_not_usable.heading': 'Cette autorisation ne peut pas être utilisée',
  'error.code_not_usable.body':
    'Elle est déjà parvenue à ce serveur, à une autre étape : elle n’est donc pas utilisée. Votre terminal attend toujours : réessayez.',

  'retry.minute': 'Réessayez dans 1 minute.',
  'retry.minutes': 'Réessayez dans {n} minutes.',
  'action.retry': 'Réessayer',
  'action.start_over': 'Saisir un code',
  'contact.link': 'Contacter {contact}',
  'footer.note': 'Cette page connecte l’outil en ligne de commande postiz à votre compte {provider}.',
};

/** What the pages say instead for a provider other than Postiz (en.ts, `enGeneric`). */
export const frGeneric: GenericCatalog = {
  'app.title': '{client} : connexion',
  'entry.heading': 'Connecter {client}',
  'confirm.lead': 'Un appareil demande l’accès à votre compte {provider} via {client}.',
  'confirm.consequences':
    'Si vous approuvez, {client} obtient, dans votre terminal, les accès à votre compte {provider} que vous accordez sur {provider}.',
  'confirm.next':
    '{provider} vous demandera ensuite de vous connecter, si ce n’est pas déjà fait, et d’autoriser {client}.',
  'device.node': 'un programme Node.js',
  'done.approved.body':
    'Retournez dans votre terminal : {client} est maintenant connecté. Vous pouvez fermer cet onglet.',
  'done.approved.organization':
    'Cette connexion vaut pour {organization}. Pour utiliser un autre compte, connectez-vous à cet autre compte sur {provider}, puis relancez {command}.',
  'done.organization_unknown': 'le compte choisi sur {provider}',
  'done.token_refused.body':
    '{provider} a autorisé la connexion, mais refuse les nouveaux identifiants pour {organization}. Vérifiez ce compte sur {provider}, puis relancez {command}. Le CLI en a été informé et n’a rien enregistré.',
  'footer.note': 'Cette page connecte {client} à votre compte {provider}.',
};

/** What the pages say instead when the client has no login command (en.ts, `enNoCommand`). */
export const frNoCommand: NoCommandCatalog = {
  'done.denied.body':
    'Vous avez refusé l’accès dans {provider}. Le CLI en a été informé et n’a rien reçu. Pour réessayer, lancez une nouvelle connexion depuis votre terminal.',
  'done.cancelled.body':
    'Rien n’a été partagé. Le CLI a été informé que la demande a été refusée. Pour réessayer, lancez une nouvelle connexion depuis votre terminal.',
  'done.approved.unchecked':
    'Impossible de demander à {provider} si la nouvelle connexion fonctionne. Si le CLI signale plus tard des identifiants invalides, lancez une nouvelle connexion depuis votre terminal.',
  'done.approved.organization':
    'Cette connexion vaut pour {organization}. Pour utiliser un autre compte, connectez-vous à cet autre compte sur {provider}, puis lancez une nouvelle connexion depuis votre terminal.',
  'done.token_refused.body':
    '{provider} a autorisé la connexion, mais refuse les nouveaux identifiants pour {organization}. Vérifiez ce compte sur {provider}, puis lancez une nouvelle connexion depuis votre terminal. Le CLI en a été informé et n’a rien enregistré.',
  'error.expired.body':
    'Les codes ne sont valables que quelques minutes. Lancez une nouvelle connexion depuis votre terminal pour en obtenir un nouveau.',
  'error.already_used.body':
    'Cette connexion a déjà été menée à terme ou refusée. Lancez une nouvelle connexion depuis votre terminal si nécessaire.',
  'error.cross_network.body':
    'Elle a été lancée depuis un autre réseau que celui de ce navigateur, et ce serveur n’accepte une connexion que depuis le réseau où elle a commencé. Votre terminal en a été informé et n’attend plus. Pour vous connecter, lancez une nouvelle connexion depuis un terminal de cet ordinateur.',
};
