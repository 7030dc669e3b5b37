/** POST /device/code: start a flow (RFC 8628 §3.1–3.2). */
import type { FastifyInstance } from 'fastify';
import { formatUserCode } from '../device-flow/codes.js';
import type { FlowService } from '../device-flow/flow-service.js';
import { deviceCodeSchema } from './schemas.js';

export function deviceCodeRoute(app: FastifyInstance, flows: FlowService, serverUrl: string): void {
  const verificationUri = `${serverUrl}/device/verify`;
  app.post('/device/code', { schema: deviceCodeSchema }, async (request, reply) => {
    const started = await flows.start({ ip: request.ip, reqId: request.id }, request.headers['user-agent']);
    const userCode = formatUserCode(started.userCode);
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
    return {
      device_code: started.deviceCode,
      user_code: userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?code=${userCode}`,
      expires_in: started.expiresIn,
      interval: started.interval,
    };
  });
}
