/** Spanish (informal "tú", as most software does). Typed as `Catalog`: a missing key is a compile error. */
import type { Catalog, GenericCatalog, NoCommandCatalog } from './en.js';

export const es: Catalog = {
  'lang.name': 'Español',
  'app.title': 'Inicio de sesión del CLI de {provider}',
  'app.brand': '{client}',

  'entry.heading': 'Conecta el CLI de {provider}',
  'entry.lead': 'Introduce el código que aparece en tu terminal.',
  'entry.label': 'Código de tu terminal',
  'entry.hint': '8 letras, por ejemplo BCDF-GHJK. En mayúsculas o minúsculas, con o sin guion.',
  'entry.submit': 'Continuar',
  'entry.login_title': 'Primero inicia sesión en {provider}',
  'entry.login_first':
    'Asegúrate de haber iniciado sesión en {provider} en este navegador. Si {provider} muestra su página de inicio de sesión por el camino, después no te traerá de vuelta aquí: inicia sesión, vuelve a abrir la dirección que aparece en tu terminal e introduce el mismo código.',

  'confirm.heading': '¿Eres tú?',
  'confirm.lead': 'Un dispositivo solicita acceso a tu cuenta de {provider} a través del CLI de {provider}.',
  'confirm.compare': 'Comprueba que tu terminal muestra este código.',
  'confirm.device': 'El dispositivo dice ser',
  'confirm.address': 'Dirección IP',
  'confirm.requested': 'Solicitado',
  'confirm.address_unknown': 'Desconocida',
  'confirm.network_same': 'La misma red que este navegador',
  'confirm.network_different': 'Esta solicitud viene de una red distinta a la de este navegador.',
  'confirm.network_unknown': 'No se puede saber si es la red de este navegador',
  'confirm.consequences':
    '{provider} autorizará la organización seleccionada ahora en {provider}. Aprobar sustituye tu propio inicio de sesión anterior del CLI para esa organización, si lo tienes; los de otros miembros no se ven afectados.',
  'confirm.warning':
    'Continúa solo si has iniciado esto tú mismo, en tu propio terminal, hace un momento. Si alguien te ha enviado este enlace o este código, cancela: está intentando entrar en tu cuenta.',
  'confirm.more_title': 'Qué hace la aprobación',
  'confirm.next':
    'A continuación, {provider} te pedirá que autorices el CLI de {provider}. Si en su lugar muestra su página de inicio de sesión, inicia sesión, vuelve a abrir la dirección que aparece en tu terminal e introduce el mismo código.',
  'confirm.continue': 'Continuar a {provider}',
  'confirm.cancel': 'Cancelar',
  'confirm.type_lead': 'Aquí el enlace por sí solo no basta.',
  'confirm.type_label': 'Código que muestra tu terminal',
  'confirm.type_hint':
    'Si tu terminal no muestra ningún código, no iniciaste tú este inicio de sesión: cancela.',
  'confirm.replaces':
    'El último inicio de sesión del CLI aprobado en este navegador: el {when}, desde {address}, {device}, para {organization}. Si apruebas con la misma cuenta de {provider} y la misma organización, {provider} pone fin a ese inicio de sesión.',
  'confirm.replaces_no_org':
    'El último inicio de sesión del CLI aprobado en este navegador: el {when}, desde {address}, {device}. Si apruebas con la misma cuenta de {provider} y la misma organización, {provider} pone fin a ese inicio de sesión.',

  'ago.now': 'ahora mismo',
  'ago.seconds': 'hace {n} segundos',
  'ago.minute': 'hace 1 minuto',
  'ago.minutes': 'hace {n} minutos',

  'device.unknown': 'un programa desconocido',
  'device.on': '{agent} en {os}',
  'device.postiz_cli': 'CLI de postiz {version}',
  'device.node': 'el CLI de postiz u otro programa de Node.js',
  'device.curl': 'curl {version}',

  'done.approved.heading': 'Has iniciado sesión',
  'done.approved.body':
    'Vuelve a tu terminal: el CLI de {provider} ya está conectado. Puedes cerrar esta pestaña.',
  'done.approved.note':
    '{provider} mantiene un solo inicio de sesión del CLI por persona y organización: si ya tenías uno para esta organización, ha terminado. Los de otros miembros no se ven afectados.',
  'done.denied.heading': 'Acceso denegado',
  'done.denied.body':
    'Has rechazado el acceso en {provider}. El CLI ha sido avisado y no ha recibido nada. Para volver a intentarlo, ejecuta {command} en tu terminal.',
  'done.cancelled.heading': 'Inicio de sesión cancelado',
  'done.cancelled.body':
    'No se ha compartido nada. El CLI ha sido avisado de que la solicitud fue rechazada. Para volver a intentarlo, ejecuta {command} en tu terminal.',
  'done.approved.checked': '{provider} confirmó que el nuevo inicio de sesión funciona.',
  'done.approved.unchecked':
    'No se pudo preguntar a {provider} si el nuevo inicio de sesión funciona. Si el CLI indica más tarde credenciales no válidas, vuelve a ejecutar {command}.',
  'done.approved.organization':
    '{provider} autorizó {organization}. Para usar otra organización, selecciónala en {provider} y vuelve a ejecutar {command}.',
  'done.approved.replaced':
    'Si aprobaste con la misma cuenta de {provider} que el último inicio de sesión del CLI aprobado en este navegador (el {when}, desde {address}, {device}), ese inicio de sesión ya no funciona: {provider} mantiene uno solo por persona y organización. Los de otros miembros no se ven afectados.',
  'done.organization_unknown': 'la organización seleccionada en {provider}',
  'org.channels': 'la organización con {channels}',
  'org.id': 'la organización {id}',
  'org.channel': '{name} en {platform}',
  'org.channel_disabled': '{name} en {platform} (desactivado)',
  'org.platform_disabled': '{platform} (desactivado)',
  'org.more': '{n} más',
  'org.id_note': 'Id. de la organización: {id}',
  'done.no_subscription.heading': 'Esta organización no tiene suscripción a {provider}',
  'done.no_subscription.body':
    '{provider} autorizó el inicio de sesión, pero niega su API a {organization}, que no tiene suscripción. Suscríbete en {provider}, o selecciona allí otra organización, y vuelve a ejecutar {command}. Se avisó al CLI y no guardó nada.',
  'done.token_refused.heading': '{provider} rechazó el nuevo inicio de sesión',
  'done.token_refused.body':
    '{provider} autorizó el inicio de sesión, pero su API rechaza las nuevas credenciales de {organization}. Revisa esa organización en {provider} y vuelve a ejecutar {command}. Se avisó al CLI y no guardó nada.',

  'error.invalid_code.heading': 'Ese código no ha funcionado',
  'error.invalid_code.body': 'Comprueba el código en tu terminal y vuelve a escribirlo.',
  'error.expired.heading': 'Este código ha caducado',
  'error.expired.body':
    'Los códigos duran unos pocos minutos. Vuelve a ejecutar {command} en tu terminal para obtener uno nuevo.',
  'error.already_used.heading': 'Este código ya se ha usado',
  'error.already_used.body':
    'Este inicio de sesión ya se completó o se rechazó. Si lo necesitas, vuelve a ejecutar {command} en tu terminal.',
  'error.rate_limited.heading': 'Demasiados intentos',
  'error.rate_limited.body': 'Por tu seguridad, durante un tiempo no se pueden probar códigos desde tu red.',
  'error.wrong_browser.heading': 'Termina en el mismo navegador',
  'error.wrong_browser.body':
    'Este inicio de sesión se confirmó en otro navegador, o se perdió su cookie. Vuelve a abrir en este navegador la dirección que aparece en tu terminal, introduce el código y confirma ahí.',
  'error.unknown_state.heading': 'Este enlace ya no es válido',
  'error.unknown_state.body':
    'Ya se usó, o el inicio de sesión al que pertenecía ha terminado. Vuelve a abrir la dirección que aparece en tu terminal para continuar.',
  'error.upstream_unavailable.heading': '{provider} ha tenido un problema',
  'error.upstream_unavailable.body':
    'No hemos podido completar el inicio de sesión con {provider}. Tu terminal sigue esperando: vuelve a intentarlo en un momento.',
  'error.upstream_rejected.heading': '{provider} no ha aceptado el inicio de sesión',
  'error.upstream_rejected.body':
    'No se ha podido usar la autorización de {provider} (puede que haya caducado). Tu terminal sigue esperando: vuelve a intentarlo.',
  'error.misconfigured.heading': 'Este servidor no está bien configurado',
  'error.misconfigured.body':
    '{provider} ha rechazado las credenciales propias de este servidor de inicio de sesión, así que no ha podido completar tu inicio de sesión. Tu terminal sigue esperando; vuelve a intentarlo más tarde.',
  'error.forbidden.heading': 'Solicitud rechazada',
  'error.forbidden.body':
    'Este formulario se envió desde otro sitio o ha caducado. Vuelve a cargar la página e inténtalo de nuevo.',
  'error.wrong_origin.heading': 'Abre la dirección de tu terminal',
  'error.wrong_origin.body':
    'Esta página se abrió en otra dirección de este servidor distinta de la suya. Abre la dirección que muestra tu terminal, en este navegador, e introduce allí el código.',
  'error.cookies_required.heading': 'Se necesitan cookies',
  'error.cookies_required.body':
    'Esta página usa una cookie para proteger tu inicio de sesión. Permite las cookies para este sitio, vuelve a cargar la página e inténtalo de nuevo.',
  'error.bad_request.heading': 'Falta algo',
  'error.bad_request.body':
    'Esta solicitud estaba incompleta. Vuelve a abrir la dirección que aparece en tu terminal.',
  'error.server_error.heading': 'Algo ha salido mal',
  'error.server_error.body':
    'El servidor no ha podido responder. Tu terminal sigue esperando: vuelve a intentarlo en un momento.',
  'error.cross_network.heading': 'Este inicio de sesión no se puede confirmar desde aquí',
  'error.cross_network.body':
    'Se inició desde una red distinta de la de este navegador, y este servidor solo acepta un inicio de sesión desde la red en la que empezó. Tu terminal ha sido avisado y ya no espera. Para iniciar sesión, ejecuta {command} en este ordenador.',
  'error.code_mismatch.heading': 'Ese no es el código de este inicio de sesión',
  'error.code_mismatch.body': 'Escribe el código que muestra tu terminal, o cancela.',
  'error.code_not_usable.heading': 'Esta autorización no se puede usar',
  'error.code_not_usable.body':
    'Ya llegó antes a este servidor, en otro paso, así que no se usa ahora. Tu terminal sigue esperando: vuelve a intentarlo.',

  'retry.minute': 'Vuelve a intentarlo dentro de 1 minuto.',
  'retry.minutes': 'Vuelve a intentarlo dentro de {n} minutos.',
  'action.retry': 'Reintentar',
  'action.start_over': 'Introducir un código',
  'contact.link': 'Contactar con {contact}',
  'footer.note':
    'Esta página conecta la herramienta de línea de comandos postiz con tu cuenta de {provider}.',
};

/** What the pages say instead for a provider other than Postiz (en.ts, `enGeneric`). */
export const esGeneric: GenericCatalog = {
  'app.title': '{client}: inicio de sesión',
  'entry.heading': 'Conecta {client}',
  'confirm.lead': 'Un dispositivo solicita acceso a tu cuenta de {provider} a través de {client}.',
  'confirm.consequences':
    'Si apruebas, {client} obtiene, en tu terminal, el acceso a tu cuenta de {provider} que permitas en {provider}.',
  'confirm.next':
    'A continuación, {provider} te pedirá que inicies sesión, si aún no lo has hecho, y que autorices {client}.',
  'device.node': 'un programa de Node.js',
  'done.approved.body':
    'Vuelve a tu terminal: {client} ya tiene acceso a tu cuenta de {provider}. Puedes cerrar esta pestaña.',
  'done.approved.organization':
    'El inicio de sesión es para {organization}. Para usar otra cuenta, entra con ella en {provider} y vuelve a ejecutar {command}.',
  'done.organization_unknown': 'la cuenta que elegiste en {provider}',
  'done.token_refused.body':
    '{provider} autorizó el inicio de sesión, pero rechaza las nuevas credenciales para {organization}. Revisa esa cuenta en {provider} y vuelve a ejecutar {command}. Se avisó al CLI y no guardó nada.',
  'footer.note': 'Esta página conecta {client} con tu cuenta de {provider}.',
};

/** What the pages say instead when the client has no login command (en.ts, `enNoCommand`). */
export const esNoCommand: NoCommandCatalog = {
  'done.denied.body':
    'Has rechazado el acceso en {provider}. El CLI ha sido avisado y no ha recibido nada. Para volver a intentarlo, vuelve a iniciar sesión desde tu terminal.',
  'done.cancelled.body':
    'No se ha compartido nada. El CLI ha sido avisado de que la solicitud fue rechazada. Para volver a intentarlo, vuelve a iniciar sesión desde tu terminal.',
  'done.approved.unchecked':
    'No se pudo preguntar a {provider} si el nuevo inicio de sesión funciona. Si el CLI indica más tarde credenciales no válidas, vuelve a iniciar sesión desde tu terminal.',
  'done.approved.organization':
    'El inicio de sesión es para {organization}. Para usar otra cuenta, entra con ella en {provider} y vuelve a iniciar sesión desde tu terminal.',
  'done.token_refused.body':
    '{provider} autorizó el inicio de sesión, pero rechaza las nuevas credenciales para {organization}. Revisa esa cuenta en {provider} y vuelve a iniciar sesión desde tu terminal. Se avisó al CLI y no guardó nada.',
  'error.expired.body':
    'Los códigos duran unos pocos minutos. Vuelve a iniciar sesión desde tu terminal para obtener uno nuevo.',
  'error.already_used.body':
    'Este inicio de sesión ya se completó o se rechazó. Si lo necesitas, vuelve a iniciar sesión desde tu terminal.',
  'error.cross_network.body':
    'Se inició desde una red distinta de la de este navegador, y este servidor solo acepta un inicio de sesión desde la red en la que empezó. Tu terminal ha sido avisado y ya no espera. Para iniciar sesión, vuelve a empezar desde un terminal de este ordenador.',
};
