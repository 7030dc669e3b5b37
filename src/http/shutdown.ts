/**
 * Closing gracefully (SIGTERM/SIGINT, `app.close()`): held polls answer at once
 * (`authorization_pending`), in-flight requests finish, and every answer from then on says
 * `Connection: close`, so keep-alive clients (the CLI among them) reconnect to another
 * instance instead of being cut off.
 */
import type { FastifyInstance } from 'fastify';
import type { FlowService } from '../device-flow/flow-service.js';

/** Install the closing hooks; returns whether the server is closing (for answers outside Fastify). */
export function closeGracefully(app: FastifyInstance, flows: FlowService): () => boolean {
  let closing = false;
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('preClose', async () => {
    closing = true;
    await flows.detach();
  });
  return () => closing;
}
