/**
 * The token exchange, server to server (docs/postiz.md, "The token exchange"): NestJS's
 * validation answers for a malformed body, Postiz's OAuth errors, and faults a test can ask
 * for, to exercise the caller's error handling.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PostizState, TokenRequest } from './state.js';

/** A failure the next token exchange(s) answer with. */
export type StandInFault = 'server-error' | 'hang' | 'malformed-json' | 'no-access-token' | 'invalid-client';

/** Mirrors NestJS's class-validator messages for Postiz's TokenExchangeDto. */
function validateTokenBody(
  body: unknown,
): { ok: true; value: TokenRequest } | { ok: false; messages: string[] } {
  const source: Record<string, unknown> =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const messages: string[] = [];
  for (const name of ['grant_type', 'code', 'client_id', 'client_secret']) {
    const value = source[name];
    if (value === undefined || value === null) messages.push(`${name} should not be null or undefined`);
    if (typeof value !== 'string') messages.push(`${name} must be a string`);
  }
  for (const name of ['code_verifier', 'redirect_uri']) {
    const value = source[name];
    if (value !== undefined && typeof value !== 'string') messages.push(`${name} must be a string`);
  }
  if (messages.length > 0) return { ok: false, messages };
  return {
    ok: true,
    value: {
      grantType: source.grant_type as string,
      code: source.code as string,
      clientId: source.client_id as string,
      clientSecret: source.client_secret as string,
      codeVerifier: source.code_verifier as string | undefined,
      redirectUri: source.redirect_uri as string | undefined,
    },
  };
}

/**
 * Answer with `fault` instead. A hanging answer is taken out of Fastify's hands so nothing ever
 * answers it; `hanging` collects it, and the stand-in's close() cuts it off.
 */
export function answerWithFault(
  fault: StandInFault,
  reply: FastifyReply,
  hanging: Set<ServerResponse>,
  organizationId: string,
) {
  switch (fault) {
    case 'server-error':
      return reply.code(500).send({ statusCode: 500, message: 'Internal server error' });
    case 'malformed-json':
      return reply.code(201).type('application/json; charset=utf-8').send('{"access_token": ');
    case 'no-access-token':
      return reply.code(201).send({ id: organizationId, token_type: 'bearer' });
    case 'invalid-client':
      return reply.code(401).send({ error: 'invalid_client' });
    case 'hang':
      reply.hijack();
      hanging.add(reply.raw);
      reply.raw.once('close', () => hanging.delete(reply.raw));
      return reply;
  }
}

/** Register `POST /oauth/token`; `nextFault` takes the next queued fault, if any. */
export function tokenRoute(
  app: FastifyInstance,
  postiz: PostizState,
  nextFault: () => StandInFault | undefined,
  hanging: Set<ServerResponse>,
): void {
  app.post('/oauth/token', async (request, reply) => {
    const fault = nextFault();
    if (fault) return answerWithFault(fault, reply, hanging, postiz.organizations[0]!.id);
    const checked = validateTokenBody(request.body);
    if (!checked.ok) {
      return reply.code(400).send({ statusCode: 400, message: checked.messages, error: 'Bad Request' });
    }
    const result = postiz.exchange(checked.value);
    return reply.code(result.status).send(result.body);
  });
}
