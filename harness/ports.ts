/** Free TCP ports on loopback, for servers and clusters the tests start. */
import { createServer } from 'node:net';

/**
 * A port that was free a moment ago on 127.0.0.1 (listen on 0, read it, close), so a URL can
 * be known before its server listens.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
