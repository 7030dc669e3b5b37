/** German (formal "Sie"). Typed as `Catalog`, so a missing or extra key is a compile error. */
import type { Catalog, GenericCatalog, NoCommandCatalog } from './en.js';

export const de: Catalog = {
  'lang.name': 'Deutsch',
  'app.title': '{provider}-CLI-Anmeldung',
  'app.brand': '{client}',

  'entry.heading': '{client} verbinden',
  'entry.lead': 'Geben Sie den Code ein, der in Ihrem Terminal angezeigt wird.',
  'entry.label': 'Code aus Ihrem Terminal',
  'entry.hint':
    '8 Buchstaben, zum Beispiel BCDF-GHJK. Groß- oder Kleinschreibung, mit oder ohne Bindestrich.',
  'entry.submit': 'Weiter',
  'entry.login_title': 'Zuerst bei {provider} anmelden',
  'entry.login_first':
    'Stellen Sie sicher, dass Sie in diesem Browser bei {provider} angemeldet sind. Wenn {provider} unterwegs seine Anmeldeseite zeigt, führt es Sie danach nicht hierher zurück: Melden Sie sich an, öffnen Sie dann die in Ihrem Terminal angezeigte Adresse erneut und geben Sie denselben Code ein.',

  'confirm.heading': 'Sind Sie das?',
  'confirm.lead': 'Ein Gerät bittet über die {client} um Zugriff auf Ihr {provider}-Konto.',
  'confirm.compare': 'Prüfen Sie, ob Ihr Terminal diesen Code zeigt.',
  'confirm.device': 'Das Gerät nennt sich',
  'confirm.address': 'IP-Adresse',
  'confirm.requested': 'Angefragt',
  'confirm.address_unknown': 'Unbekannt',
  'confirm.network_same': 'Dasselbe Netzwerk wie dieser Browser',
  'confirm.network_different': 'Diese Anfrage kam aus einem anderen Netzwerk als dieser Browser.',
  'confirm.network_unknown': 'Nicht feststellbar, ob dies das Netzwerk dieses Browsers ist',
  'confirm.consequences':
    '{provider} autorisiert die Organisation, die in {provider} gerade ausgewählt ist. Die Freigabe ersetzt Ihre eigene frühere CLI-Anmeldung für diese Organisation, falls Sie eine haben; Anmeldungen anderer Mitglieder bleiben unberührt.',
  'confirm.warning':
    'Fahren Sie nur fort, wenn Sie dies gerade eben selbst in Ihrem Terminal gestartet haben. Hat Ihnen jemand diesen Link oder Code geschickt, brechen Sie ab: Diese Person versucht, in Ihr Konto zu gelangen.',
  'confirm.more_title': 'Was die Freigabe bewirkt',
  'confirm.next':
    'Als Nächstes bittet {provider} Sie, die {client} zu autorisieren. Wenn stattdessen die Anmeldeseite erscheint, melden Sie sich an, öffnen Sie dann die in Ihrem Terminal angezeigte Adresse erneut und geben Sie denselben Code ein.',
  'confirm.continue': 'Weiter zu {provider}',
  'confirm.cancel': 'Abbrechen',
  'confirm.type_lead': 'Der Link allein genügt hier nicht.',
  'confirm.type_label': 'Code aus Ihrem Terminal',
  'confirm.type_hint':
    'Wenn Ihr Terminal keinen Code zeigt, haben Sie diese Anmeldung nicht gestartet: Brechen Sie ab.',
  'confirm.replaces':
    'Die letzte in diesem Browser freigegebene CLI-Anmeldung: am {when}, von {address}, {device}, für {organization}. Wenn Sie mit demselben {provider}-Konto und derselben Organisation freigeben, beendet {provider} diese Anmeldung.',
  'confirm.replaces_no_org':
    'Die letzte in diesem Browser freigegebene CLI-Anmeldung: am {when}, von {address}, {device}. Wenn Sie mit demselben {provider}-Konto und derselben Organisation freigeben, beendet {provider} diese Anmeldung.',

  'ago.now': 'gerade eben',
  'ago.seconds': 'vor {n} Sekunden',
  'ago.minute': 'vor 1 Minute',
  'ago.minutes': 'vor {n} Minuten',

  'device.unknown': 'ein unbekanntes Programm',
  'device.on': '{agent} unter {os}',
  'device.postiz_cli': 'postiz CLI {version}',
  'device.node': 'die postiz CLI oder ein anderes Node.js-Programm',
  'device.curl': 'curl {version}',

  'done.approved.heading': 'Sie sind angemeldet',
  'done.approved.body':
    'Kehren Sie zu Ihrem Terminal zurück: Die {client} ist jetzt verbunden. Sie können diesen Tab schließen.',
  'done.approved.note':
    '{provider} behält pro Person und Organisation nur eine CLI-Anmeldung: Eine frühere CLI-Anmeldung von Ihnen für diese Organisation, falls vorhanden, ist beendet. Anmeldungen anderer Mitglieder bleiben unberührt.',
  'done.denied.heading': 'Zugriff verweigert',
  'done.denied.body':
    'Sie haben den Zugriff in {provider} abgelehnt. Die CLI wurde darüber informiert und hat nichts erhalten. Um es erneut zu versuchen, führen Sie {command} in Ihrem Terminal aus.',
  'done.cancelled.heading': 'Anmeldung abgebrochen',
  'done.cancelled.body':
    'Es wurde nichts weitergegeben. Die CLI wurde darüber informiert, dass die Anfrage abgelehnt wurde. Um es erneut zu versuchen, führen Sie {command} in Ihrem Terminal aus.',
  'done.approved.checked': '{provider} hat bestätigt, dass die neue Anmeldung funktioniert.',
  'done.approved.unchecked':
    '{provider} konnte nicht gefragt werden, ob die neue Anmeldung funktioniert. Wenn die CLI später ungültige Zugangsdaten meldet, führen Sie {command} erneut aus.',
  'done.approved.organization':
    '{provider} hat {organization} autorisiert. Um eine andere Organisation zu verwenden, wählen Sie sie in {provider} aus und führen Sie dann {command} erneut aus.',
  'done.approved.replaced':
    'Wenn Sie mit demselben {provider}-Konto freigegeben haben wie die letzte in diesem Browser freigegebene CLI-Anmeldung (am {when}, von {address}, {device}), funktioniert jene Anmeldung nicht mehr: {provider} behält pro Person und Organisation nur eine CLI-Anmeldung. Anmeldungen anderer Mitglieder bleiben unberührt.',
  'done.organization_unknown': 'die in {provider} ausgewählte Organisation',
  'org.channels': 'die Organisation mit {channels}',
  'org.id': 'die Organisation {id}',
  'org.channel': '{name} auf {platform}',
  'org.channel_disabled': '{name} auf {platform} (deaktiviert)',
  'org.platform_disabled': '{platform} (deaktiviert)',
  'org.more': '{n} weitere',
  'org.id_note': 'Organisations-ID: {id}',
  'done.no_subscription.heading': 'Diese Organisation hat kein {provider}-Abonnement',
  'done.no_subscription.body':
    '{provider} hat die Anmeldung autorisiert, verweigert die API aber für {organization}, weil kein Abonnement besteht. Schließen Sie in {provider} ein Abonnement ab oder wählen Sie dort eine andere Organisation, und führen Sie dann {command} erneut aus. Die CLI wurde informiert und hat nichts gespeichert.',
  'done.token_refused.heading': '{provider} hat die neue Anmeldung abgelehnt',
  'done.token_refused.body':
    '{provider} hat die Anmeldung autorisiert, aber seine API lehnt die neuen Zugangsdaten für {organization} ab. Prüfen Sie diese Organisation in {provider} und führen Sie dann {command} erneut aus. Die CLI wurde informiert und hat nichts gespeichert.',

  'error.invalid_code.heading': 'Dieser Code hat nicht funktioniert',
  'error.invalid_code.body': 'Prüfen Sie den Code in Ihrem Terminal und geben Sie ihn erneut ein.',
  'error.expired.heading': 'Dieser Code ist abgelaufen',
  'error.expired.body':
    'Codes sind nur wenige Minuten gültig. Führen Sie {command} in Ihrem Terminal erneut aus, um einen neuen zu erhalten.',
  'error.already_used.heading': 'Dieser Code wurde bereits verwendet',
  'error.already_used.body':
    'Diese Anmeldung wurde bereits abgeschlossen oder abgelehnt. Führen Sie bei Bedarf {command} in Ihrem Terminal erneut aus.',
  'error.rate_limited.heading': 'Zu viele Versuche',
  'error.rate_limited.body':
    'Zu Ihrer Sicherheit können von Ihrem Netzwerk aus eine Weile lang keine Codes ausprobiert werden.',
  'error.wrong_browser.heading': 'Bitte im selben Browser abschließen',
  'error.wrong_browser.body':
    'Diese Anmeldung wurde in einem anderen Browser bestätigt, oder ihr Cookie ist verloren gegangen. Öffnen Sie die in Ihrem Terminal angezeigte Adresse erneut in diesem Browser, geben Sie den Code ein und bestätigen Sie dort.',
  'error.unknown_state.heading': 'Dieser Link ist nicht mehr gültig',
  'error.unknown_state.body':
    'Er wurde bereits verwendet, oder die zugehörige Anmeldung ist beendet. Öffnen Sie die in Ihrem Terminal angezeigte Adresse erneut, um fortzufahren.',
  'error.upstream_unavailable.heading': 'Bei {provider} ist ein Problem aufgetreten',
  'error.upstream_unavailable.body':
    'Wir konnten die Anmeldung bei {provider} nicht abschließen. Ihr Terminal wartet noch: Versuchen Sie es gleich noch einmal.',
  'error.upstream_rejected.heading': '{provider} hat die Anmeldung nicht angenommen',
  'error.upstream_rejected.body':
    'Die Autorisierung von {provider} konnte nicht verwendet werden (sie ist möglicherweise abgelaufen). Ihr Terminal wartet noch: Versuchen Sie es noch einmal.',
  'error.misconfigured.heading': 'Dieser Server ist nicht richtig eingerichtet',
  'error.misconfigured.body':
    '{provider} hat die eigenen Zugangsdaten dieses Anmeldeservers abgelehnt, daher konnte er Ihre Anmeldung nicht abschließen. Ihr Terminal wartet noch; versuchen Sie es später erneut.',
  'error.forbidden.heading': 'Anfrage abgelehnt',
  'error.forbidden.body':
    'Dieses Formular wurde von einer anderen Website gesendet oder ist abgelaufen. Laden Sie die Seite neu und versuchen Sie es erneut.',
  'error.wrong_origin.heading': 'Öffnen Sie die Adresse aus Ihrem Terminal',
  'error.wrong_origin.body':
    'Diese Seite wurde unter einer anderen Adresse dieses Servers geöffnet als der, unter der er läuft. Öffnen Sie die in Ihrem Terminal angezeigte Adresse in diesem Browser und geben Sie dort den Code ein.',
  'error.cookies_required.heading': 'Cookies werden benötigt',
  'error.cookies_required.body':
    'Diese Seite verwendet ein Cookie, um Ihre Anmeldung zu schützen. Erlauben Sie Cookies für diese Website, laden Sie die Seite neu und versuchen Sie es erneut.',
  'error.bad_request.heading': 'Es fehlt etwas',
  'error.bad_request.body':
    'Diese Anfrage war unvollständig. Öffnen Sie die in Ihrem Terminal angezeigte Adresse erneut.',
  'error.server_error.heading': 'Etwas ist schiefgelaufen',
  'error.server_error.body':
    'Der Server konnte nicht antworten. Ihr Terminal wartet noch: Versuchen Sie es gleich noch einmal.',
  'error.cross_network.heading': 'Diese Anmeldung kann hier nicht bestätigt werden',
  'error.cross_network.body':
    'Sie wurde aus einem anderen Netzwerk als dem dieses Browsers gestartet, und dieser Server nimmt eine Anmeldung nur aus dem Netzwerk an, in dem sie begann. Ihr Terminal wurde informiert und wartet nicht mehr. Um sich anzumelden, führen Sie {command} auf diesem Computer aus.',
  'error.code_mismatch.heading': 'Das ist nicht der Code dieser Anmeldung',
  'error.code_mismatch.body': 'Geben Sie den Code ein, den Ihr Terminal zeigt, oder brechen Sie ab.',
  'error.code_not_usable.heading': 'Diese Autorisierung kann nicht verwendet werden',
  'error.code_not_usable.body':
    'Sie hat diesen Server schon vorher erreicht, bei einem anderen Schritt, und wird deshalb nicht verwendet. Ihr Terminal wartet noch: Versuchen Sie es erneut.',

  'retry.minute': 'Versuchen Sie es in einer Minute erneut.',
  'retry.minutes': 'Versuchen Sie es in {n} Minuten erneut.',
  'action.retry': 'Erneut versuchen',
  'action.start_over': 'Code eingeben',
  'contact.link': '{contact} kontaktieren',
  'footer.note': 'Diese Seite meldet das Kommandozeilenwerkzeug postiz bei Ihrem {provider}-Konto an.',
};

/** What the pages say instead for a provider other than Postiz (en.ts, `enGeneric`). */
export const deGeneric: GenericCatalog = {
  'app.title': '{client}: Anmeldung',
  'entry.heading': '{client} verbinden',
  'confirm.lead': 'Ein Gerät bittet über {client} um Zugriff auf Ihr Konto bei {provider}.',
  'confirm.consequences':
    'Wenn Sie freigeben, erhält {client} in Ihrem Terminal den Zugriff auf Ihr Konto bei {provider}, den Sie bei {provider} erlauben.',
  'confirm.next':
    'Als Nächstes bittet {provider} Sie, sich anzumelden, falls Sie es noch nicht sind, und {client} zu autorisieren.',
  'device.node': 'ein Node.js-Programm',
  'done.approved.body':
    'Kehren Sie zu Ihrem Terminal zurück: {client} ist jetzt verbunden. Sie können diesen Tab schließen.',
  'done.approved.organization':
    'Die Anmeldung gilt für {organization}. Um ein anderes Konto zu verwenden, melden Sie sich bei {provider} mit diesem Konto an und führen Sie dann {command} erneut aus.',
  'done.organization_unknown': 'das bei {provider} gewählte Konto',
  'done.token_refused.body':
    '{provider} hat die Anmeldung autorisiert, lehnt aber die neuen Zugangsdaten für {organization} ab. Prüfen Sie dieses Konto bei {provider} und führen Sie dann {command} erneut aus. Die CLI wurde informiert und hat nichts gespeichert.',
  'footer.note': 'Diese Seite meldet {client} bei Ihrem Konto bei {provider} an.',
};

/** What the pages say instead when the client has no login command (en.ts, `enNoCommand`). */
export const deNoCommand: NoCommandCatalog = {
  'done.denied.body':
    'Sie haben den Zugriff in {provider} abgelehnt. Die CLI wurde darüber informiert und hat nichts erhalten. Um es erneut zu versuchen, starten Sie in Ihrem Terminal eine neue Anmeldung.',
  'done.cancelled.body':
    'Es wurde nichts weitergegeben. Die CLI wurde darüber informiert, dass die Anfrage abgelehnt wurde. Um es erneut zu versuchen, starten Sie in Ihrem Terminal eine neue Anmeldung.',
  'done.approved.unchecked':
    '{provider} konnte nicht gefragt werden, ob die neue Anmeldung funktioniert. Wenn die CLI später ungültige Zugangsdaten meldet, starten Sie in Ihrem Terminal eine neue Anmeldung.',
  'done.approved.organization':
    'Die Anmeldung gilt für {organization}. Um ein anderes Konto zu verwenden, melden Sie sich bei {provider} mit diesem Konto an und starten Sie dann in Ihrem Terminal eine neue Anmeldung.',
  'done.token_refused.body':
    '{provider} hat die Anmeldung autorisiert, lehnt aber die neuen Zugangsdaten für {organization} ab. Prüfen Sie dieses Konto bei {provider} und starten Sie dann in Ihrem Terminal eine neue Anmeldung. Die CLI wurde informiert und hat nichts gespeichert.',
  'error.expired.body':
    'Codes sind nur wenige Minuten gültig. Starten Sie in Ihrem Terminal eine neue Anmeldung, um einen neuen zu erhalten.',
  'error.already_used.body':
    'Diese Anmeldung wurde bereits abgeschlossen oder abgelehnt. Starten Sie bei Bedarf in Ihrem Terminal eine neue Anmeldung.',
  'error.cross_network.body':
    'Sie wurde aus einem anderen Netzwerk als dem dieses Browsers gestartet, und dieser Server nimmt eine Anmeldung nur aus dem Netzwerk an, in dem sie begann. Ihr Terminal wurde informiert und wartet nicht mehr. Um sich anzumelden, starten Sie eine neue Anmeldung in einem Terminal auf diesem Computer.',
};
