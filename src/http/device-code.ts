/** POST /device/code: start a flow (RFC 8628 §3.1–3.2). */
import type { FastifyInstance } from 'fastify';
import { formatUserCode } from '../device-flow/codes.js';
import type { FlowService } from '../device-flow/flow-service.js';
import type { CallerOf } from './caller.js';
import { deviceCodeSchema } from './schemas.js';

export function deviceCodeRoute(
  app: FastifyInstance,
  flows: FlowService,
  options: { serverUrl: string; jsonHeaders: Record<string, string>; callerOf: CallerOf },
): void {
  const verificationUri = `${options.serverUrl}/device/verify`;
  const headers = options.jsonHeaders;
  const routeOptions = { schema: deviceCodeSchema } as const;
  app.post('/device/code', routeOptions, async (request, reply) => {
    const started = await flows.start(options.callerOf(request, reply), request.headers['user-agent']);
    const userCode = formatUserCode(started.userCode);
    reply.headers(headers);
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
