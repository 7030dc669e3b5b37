/**
 * Why the server could not listen, said in terms of HOST and PORT: Node's own
 * "listen EADDRINUSE: address already in use 0.0.0.0:3111" names neither setting.
 */

/**
 * One of the demo's own servers (its Postiz stand-in at DEMO_POSTIZ_PORT, its webhook receiver
 * at DEMO_WEBHOOK_PORT) could not listen on 127.0.0.1: one line naming that setting (Node's
 * own message names none).
 */
export function describeDemoListenError(
  err: unknown,
  port: number,
  setting = 'DEMO_POSTIZ_PORT',
  what = "the demo's Postiz stand-in",
): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `${setting} ${port} (${what}, on 127.0.0.1) is already in use (EADDRINUSE): another process listens there, perhaps a demo already running. Stop it, or set ${setting} to a free port.`;
    case 'EACCES':
      return `${setting} ${port} (${what}) needs privileges this process does not have (EACCES): set ${setting} to a port above 1023.`;
    default:
      return `${what} cannot listen on 127.0.0.1:${port} (${setting}): ${(err as Error | undefined)?.message ?? String(err)}`;
  }
}

/** One line naming the setting at fault, its value and the cause. */
export function describeListenError(err: unknown, host: string, port: number): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return `PORT ${port} is already in use on HOST ${host} (EADDRINUSE): another process listens there. Stop it, or set PORT to a free port.`;
    case 'EACCES':
      return `PORT ${port} on HOST ${host} needs privileges this process does not have (EACCES): use a PORT above 1023, and let a proxy or the platform publish the port you want.`;
    case 'EADDRNOTAVAIL':
      return `HOST ${host} is not an address of this machine (EADDRNOTAVAIL): set HOST to one of its addresses, or to 0.0.0.0 for all of them.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return `HOST ${host} is neither an address nor a name that resolves (${code}): set HOST to an address of this machine, or to 0.0.0.0 for all of them.`;
    default:
      return `cannot listen on HOST ${host}, PORT ${port}: ${(err as Error | undefined)?.message ?? String(err)}`;
  }
}
