/**
 * Portuguese, in Brazilian usage (the larger audience; still clear in Portugal). Typed as `Catalog`,
 * so a missing or extra key is a compile error.
 */
import type { Catalog, GenericCatalog, NoCommandCatalog } from './en.js';

export const pt: Catalog = {
  'lang.name': 'Português',
  'app.title': 'Login do CLI do {provider}',
  'app.brand': '{client}',

  'entry.heading': 'Conectar o CLI do {provider}',
  'entry.lead': 'Digite o código mostrado no seu terminal.',
  'entry.label': 'Código do seu terminal',
  'entry.hint': '8 letras, por exemplo BCDF-GHJK. Em maiúsculas ou minúsculas, com ou sem hífen.',
  'entry.submit': 'Continuar',
  'entry.login_title': 'Faça login no {provider} primeiro',
  'entry.login_first':
    'Verifique se você já fez login no {provider} neste navegador. Se o {provider} mostrar a página de login no caminho, ele não vai trazer você de volta para cá depois: faça login, abra de novo o endereço mostrado no seu terminal e digite o mesmo código.',

  'confirm.heading': 'É você?',
  'confirm.lead': 'Um dispositivo pede acesso à sua conta do {provider} pelo CLI do {provider}.',
  'confirm.compare': 'Confira se o seu terminal mostra este código.',
  'confirm.device': 'O dispositivo diz ser',
  'confirm.address': 'Endereço IP',
  'confirm.requested': 'Solicitado',
  'confirm.address_unknown': 'Desconhecido',
  'confirm.network_same': 'A mesma rede deste navegador',
  'confirm.network_different': 'Este pedido veio de uma rede diferente da deste navegador.',
  'confirm.network_unknown': 'Não é possível saber se é a rede deste navegador',
  'confirm.consequences':
    'O {provider} vai autorizar a organização selecionada agora no {provider}. Aprovar substitui o seu próprio login anterior do CLI para essa organização, se você tiver um; os logins de outros membros não são afetados.',
  'confirm.warning':
    'Continue somente se foi você quem iniciou isto, no seu próprio terminal, agora há pouco. Se alguém enviou este link ou este código para você, cancele: essa pessoa está tentando entrar na sua conta.',
  'confirm.more_title': 'O que a aprovação faz',
  'confirm.next':
    'Em seguida, o {provider} vai pedir que você autorize o CLI do {provider}. Se ele mostrar a página de login em vez disso, faça login, abra de novo o endereço mostrado no seu terminal e digite o mesmo código.',
  'confirm.continue': 'Continuar no {provider}',
  'confirm.cancel': 'Cancelar',
  'confirm.type_lead': 'Aqui o link sozinho não basta.',
  'confirm.type_label': 'Código mostrado no seu terminal',
  'confirm.type_hint':
    'Se o seu terminal não mostra nenhum código, não foi você quem iniciou este login: cancele.',
  'confirm.replaces':
    'O último login do CLI aprovado neste navegador: em {when}, a partir de {address}, {device}, para {organization}. Se você aprovar com a mesma conta do {provider} e a mesma organização, o {provider} encerra esse login.',
  'confirm.replaces_no_org':
    'O último login do CLI aprovado neste navegador: em {when}, a partir de {address}, {device}. Se você aprovar com a mesma conta do {provider} e a mesma organização, o {provider} encerra esse login.',

  'ago.now': 'agora mesmo',
  'ago.seconds': 'há {n} segundos',
  'ago.minute': 'há 1 minuto',
  'ago.minutes': 'há {n} minutos',

  'device.unknown': 'um programa desconhecido',
  'device.on': '{agent} em {os}',
  'device.postiz_cli': 'CLI do postiz {version}',
  'device.node': 'o CLI do postiz ou outro programa Node.js',
  'device.curl': 'curl {version}',

  'done.approved.heading': 'Login concluído',
  'done.approved.body':
    'Volte ao seu terminal: o CLI do {provider} já está conectado. Você pode fechar esta aba.',
  'done.approved.note':
    'O {provider} mantém um único login do CLI por pessoa e organização: se você já tinha um para esta organização, ele foi encerrado. Os logins de outros membros não são afetados.',
  'done.denied.heading': 'Acesso negado',
  'done.denied.body':
    'Você recusou o acesso no {provider}. O CLI foi avisado e não recebeu nada. Para tentar de novo, execute {command} no seu terminal.',
  'done.cancelled.heading': 'Login cancelado',
  'done.cancelled.body':
    'Nada foi compartilhado. O CLI foi avisado de que o pedido foi recusado. Para tentar de novo, execute {command} no seu terminal.',
  'done.approved.checked': 'O {provider} confirmou que o novo login funciona.',
  'done.approved.unchecked':
    'Não foi possível perguntar ao {provider} se o novo login funciona. Se o CLI mais tarde indicar credenciais inválidas, execute {command} novamente.',
  'done.approved.organization':
    'O {provider} autorizou {organization}. Para usar outra organização, selecione-a no {provider} e execute {command} novamente.',
  'done.approved.replaced':
    'Se você aprovou com a mesma conta do {provider} que o último login do CLI aprovado neste navegador (em {when}, a partir de {address}, {device}), esse login não funciona mais: o {provider} mantém um único login do CLI por pessoa e organização. Os logins de outros membros não são afetados.',
  'done.organization_unknown': 'a organização selecionada no {provider}',
  'org.channels': 'a organização com {channels}',
  'org.id': 'a organização {id}',
  'org.channel': '{name} no {platform}',
  'org.channel_disabled': '{name} no {platform} (desativado)',
  'org.platform_disabled': '{platform} (desativado)',
  'org.more': 'mais {n}',
  'org.id_note': 'ID da organização: {id}',
  'done.no_subscription.heading': 'Esta organização não tem assinatura do {provider}',
  'done.no_subscription.body':
    'O {provider} autorizou o login, mas recusa a sua API para {organization}, que não tem assinatura. Assine no {provider}, ou selecione lá outra organização, e execute {command} novamente. O CLI foi avisado e não guardou nada.',
  'done.token_refused.heading': 'O {provider} recusou o novo login',
  'done.token_refused.body':
    'O {provider} autorizou o login, mas a sua API recusa as novas credenciais emitidas para {organization}. Verifique essa organização no {provider} e execute {command} novamente. O CLI foi avisado e não guardou nada.',

  'error.invalid_code.heading': 'Esse código não funcionou',
  'error.invalid_code.body': 'Confira o código no seu terminal e digite-o de novo.',
  'error.expired.heading': 'Este código expirou',
  'error.expired.body':
    'Os códigos valem por poucos minutos. Execute {command} de novo no seu terminal para receber um novo.',
  'error.already_used.heading': 'Este código já foi usado',
  'error.already_used.body':
    'Este login já foi concluído ou recusado. Se precisar, execute {command} de novo no seu terminal.',
  'error.rate_limited.heading': 'Muitas tentativas',
  'error.rate_limited.body':
    'Para sua segurança, não é possível testar códigos a partir da sua rede por algum tempo.',
  'error.wrong_browser.heading': 'Conclua no mesmo navegador',
  'error.wrong_browser.body':
    'Este login foi confirmado em outro navegador, ou o cookie dele se perdeu. Abra de novo neste navegador o endereço mostrado no seu terminal, digite o código e confirme aqui.',
  'error.unknown_state.heading': 'Este link não é mais válido',
  'error.unknown_state.body':
    'Ele já foi usado, ou o login a que pertencia terminou. Abra de novo o endereço mostrado no seu terminal para continuar.',
  'error.upstream_unavailable.heading': 'O {provider} teve um problema',
  'error.upstream_unavailable.body':
    'Não conseguimos concluir o login com o {provider}. Seu terminal continua aguardando: tente de novo em instantes.',
  'error.upstream_rejected.heading': 'O {provider} não aceitou o login',
  'error.upstream_rejected.body':
    'Não foi possível usar a autorização do {provider} (ela pode ter expirado). Seu terminal continua aguardando: tente de novo.',
  'error.misconfigured.heading': 'Este servidor não está configurado corretamente',
  'error.misconfigured.body':
    'O {provider} recusou as credenciais próprias deste servidor de login, por isso ele não conseguiu concluir seu login. Seu terminal continua aguardando; tente de novo mais tarde.',
  'error.forbidden.heading': 'Solicitação recusada',
  'error.forbidden.body':
    'Este formulário foi enviado de outro site ou expirou. Recarregue a página e tente de novo.',
  'error.wrong_origin.heading': 'Abra o endereço do seu terminal',
  'error.wrong_origin.body':
    'Esta página foi aberta em outro endereço deste servidor, diferente do dele. Abra o endereço mostrado no seu terminal, neste navegador, e digite o código lá.',
  'error.cookies_required.heading': 'Cookies são necessários',
  'error.cookies_required.body':
    'Esta página usa um cookie para proteger o seu login. Permita cookies para este site, recarregue a página e tente de novo.',
  'error.bad_request.heading': 'Está faltando algo',
  'error.bad_request.body':
    'Esta solicitação estava incompleta. Abra de novo o endereço mostrado no seu terminal.',
  'error.server_error.heading': 'Algo deu errado',
  'error.server_error.body':
    'O servidor não conseguiu responder. Seu terminal continua aguardando: tente de novo em instantes.',
  'error.cross_network.heading': 'Este login não pode ser confirmado daqui',
  'error.cross_network.body':
    'Ele foi iniciado a partir de uma rede diferente da deste navegador, e este servidor só aceita um login a partir da rede em que ele começou. Seu terminal foi avisado e parou de esperar. Para fazer login, execute {command} neste computador.',
  'error.code_mismatch.heading': 'Este não é o código deste login',
  'error.code_mismatch.body': 'Digite o código que o seu terminal mostra, ou cancele.',
  'error.code_not_usable.heading': 'Esta autorização não pode ser usada',
  'error.code_not_usable.body':
    'Ela já chegou a este servidor antes, em outro passo, por isso não é usada agora. Seu terminal continua aguardando: tente de novo.',

  'retry.minute': 'Tente de novo em 1 minuto.',
  'retry.minutes': 'Tente de novo em {n} minutos.',
  'action.retry': 'Tentar de novo',
  'action.start_over': 'Digitar um código',
  'contact.link': 'Contato: {contact}',
  'footer.note': 'Esta página conecta a ferramenta de linha de comando postiz à sua conta do {provider}.',
};

/**
 * What the pages say instead for a provider other than Postiz (en.ts, `enGeneric`); and, since
 * a name it does not know takes no article, every message that names the provider.
 */
export const ptGeneric: GenericCatalog = {
  'app.title': '{client}: login',
  'entry.heading': 'Conectar {client}',
  'confirm.lead': 'Um dispositivo pede acesso à sua conta em {provider} por meio de {client}.',
  'confirm.consequences':
    'Se você aprovar, {client} recebe, no seu terminal, o acesso à sua conta em {provider} que você permitir em {provider}.',
  'confirm.next':
    'Em seguida, {provider} vai pedir que você faça login, se ainda não tiver feito, e que autorize {client}.',
  'confirm.continue': 'Continuar para {provider}',
  'device.node': 'um programa Node.js',
  'done.approved.body':
    'Volte ao seu terminal: {client} já tem acesso à sua conta em {provider}. Você pode fechar esta aba.',
  'done.denied.body':
    'Você recusou o acesso em {provider}. O CLI foi avisado e não recebeu nada. Para tentar de novo, execute {command} no seu terminal.',
  'done.approved.checked': '{provider} confirmou que o novo login funciona.',
  'done.approved.unchecked':
    'Não foi possível perguntar a {provider} se o novo login funciona. Se o CLI mais tarde indicar credenciais inválidas, execute {command} novamente.',
  'done.approved.organization':
    'O login é para {organization}. Para usar outra conta, entre com ela em {provider} e execute {command} novamente.',
  'done.organization_unknown': 'a conta que você escolheu em {provider}',
  'done.token_refused.heading': '{provider} recusou o novo login',
  'done.token_refused.body':
    '{provider} autorizou o login, mas recusa as novas credenciais para {organization}. Verifique essa conta em {provider} e execute {command} novamente. O CLI foi avisado e não guardou nada.',
  'error.upstream_unavailable.heading': '{provider} teve um problema',
  'error.upstream_unavailable.body':
    'Não conseguimos concluir o login com {provider}. Seu terminal continua aguardando: tente de novo em instantes.',
  'error.upstream_rejected.heading': '{provider} não aceitou o login',
  'error.upstream_rejected.body':
    'Não foi possível usar a autorização dada por {provider} (ela pode ter expirado). Seu terminal continua aguardando: tente de novo.',
  'error.misconfigured.body':
    '{provider} recusou as credenciais próprias deste servidor de login, por isso ele não conseguiu concluir seu login. Seu terminal continua aguardando; tente de novo mais tarde.',
  'footer.note': 'Esta página conecta {client} à sua conta em {provider}.',
};

/** What the pages say instead when the client has no login command (en.ts, `enNoCommand`). */
export const ptNoCommand: NoCommandCatalog = {
  'done.denied.body':
    'Você recusou o acesso em {provider}. O CLI foi avisado e não recebeu nada. Para tentar de novo, inicie um novo login no seu terminal.',
  'done.cancelled.body':
    'Nada foi compartilhado. O CLI foi avisado de que o pedido foi recusado. Para tentar de novo, inicie um novo login no seu terminal.',
  'done.approved.unchecked':
    'Não foi possível perguntar a {provider} se o novo login funciona. Se o CLI mais tarde indicar credenciais inválidas, inicie um novo login no seu terminal.',
  'done.approved.organization':
    'O login é para {organization}. Para usar outra conta, entre com ela em {provider} e inicie um novo login no seu terminal.',
  'done.token_refused.body':
    '{provider} autorizou o login, mas recusa as novas credenciais para {organization}. Verifique essa conta em {provider} e inicie um novo login no seu terminal. O CLI foi avisado e não guardou nada.',
  'error.expired.body':
    'Os códigos valem por poucos minutos. Inicie um novo login no seu terminal para receber um novo.',
  'error.already_used.body':
    'Este login já foi concluído ou recusado. Se precisar, inicie um novo login no seu terminal.',
  'error.cross_network.body':
    'Ele foi iniciado a partir de uma rede diferente da deste navegador, e este servidor só aceita um login a partir da rede em que ele começou. Seu terminal foi avisado e parou de esperar. Para fazer login, comece de novo em um terminal deste computador.',
};
