/**
 * JSON schemas of the API: they validate what comes in, serialize what goes out (fast and
 * without leaking extra fields), and generate /openapi.json.
 */
import type { TokenAnswerSchema } from '../upstream/upstream.js';

/** `{error, error_description?, interval?}`: every JSON error body. */
export const errorBody = {
  $id: 'OAuthError',
  type: 'object',
  description: 'An OAuth error (RFC 6749 §5.2, RFC 8628 §3.5).',
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'The RFC error code, e.g. authorization_pending.' },
    error_description: { type: 'string' },
    interval: { type: 'integer', description: 'With slow_down: the new polling interval in seconds.' },
  },
} as const;

const errorRef = { $ref: 'OAuthError#' } as const;

export const deviceCodeSchema = {
  summary: 'Start a device flow (RFC 8628 §3.1)',
  tags: ['device flow'],
  consumes: ['application/json', 'application/x-www-form-urlencoded'],
  body: {
    type: ['object', 'null'],
    properties: {
      client_id: { type: 'string', maxLength: 256, description: 'Optional; informational only.' },
    },
  },
  response: {
    200: {
      description: 'Device authorization response (RFC 8628 §3.2).',
      type: 'object',
      required: [
        'device_code',
        'user_code',
        'verification_uri',
        'verification_uri_complete',
        'expires_in',
        'interval',
      ],
      properties: {
        device_code: { type: 'string' },
        user_code: { type: 'string', pattern: '^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$' },
        verification_uri: { type: 'string', format: 'uri' },
        verification_uri_complete: { type: 'string', format: 'uri' },
        expires_in: { type: 'integer' },
        interval: { type: 'integer' },
      },
    },
    '4xx': errorRef,
    '5xx': errorRef,
  },
} as const;

/**
 * POST /device/token as the OpenAPI document describes it: the profile's token answer, and the
 * refresh grant where the profile forwards refreshes. (Answers are serialized by `answerPoll`,
 * never through this schema.)
 */
export const tokenSchema = (answer: TokenAnswerSchema, refresh: boolean) =>
  ({
    summary: 'Poll for the token (RFC 8628 §3.4)',
    description:
      'JSON `{"device_code"}` (the CLI) or the RFC 8628 form `grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code=…`. ' +
      'Send `Prefer: wait=N` (RFC 7240) to hold a pending poll open up to N seconds.' +
      (refresh
        ? " A form with `grant_type=refresh_token`, `refresh_token` and optionally `scope` is forwarded to the provider with this server's client credentials (RFC 6749 §6), and answered as the provider answered."
        : ''),
    tags: ['device flow'],
    consumes: ['application/json', 'application/x-www-form-urlencoded'],
    body: {
      type: 'object',
      properties: {
        device_code: { type: 'string' },
        grant_type: { type: 'string' },
        client_id: { type: 'string' },
        ...(refresh ? { refresh_token: { type: 'string' }, scope: { type: 'string' } } : {}),
      },
    },
    response: {
      200: {
        description: refresh
          ? 'The access token (delivered once), or a refreshed one.'
          : 'The access token (delivered once).',
        type: 'object',
        required: answer.required,
        properties: answer.properties,
      },
      '4xx': errorRef,
      '5xx': errorRef,
    },
  }) as const;

export const healthSchema = {
  summary: 'Liveness',
  tags: ['operations'],
  response: {
    200: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['ok'] },
        version: { type: 'string', description: "The server's version (package.json)." },
        commit: { type: 'string', description: 'The source commit it was built from, or `unknown`.' },
      },
    },
  },
} as const;

/**
 * /ready's body: the database kind, whether flow changes are heard (LISTEN/NOTIFY), and, under
 * the provider's profile id, whether the provider answers and takes our credentials.
 */
export const readiness = (upstreamId: string) =>
  ({
    $id: 'readiness',
    type: 'object',
    properties: {
      status: { type: 'string', enum: ['ready', 'unavailable'] },
      database: { type: 'string', enum: ['postgres', 'pglite'] },
      notifications: {
        type: 'string',
        enum: ['checking', 'working', 'lost'],
        description: '`lost`: changes are noticed by a re-check every second only (set DATABASE_DIRECT_URL)',
      },
      [upstreamId]: {
        type: 'string',
        enum: ['reachable', 'unreachable', 'unknown', 'misconfigured'],
        description:
          "Whether the provider answered its last check (logins fail at the code exchange while it does not), or refuses this server's OAuth client credentials (`misconfigured`: fix them); never makes /ready fail",
      },
    },
  }) as const;

export const readySchema = {
  summary: 'Readiness: 200 when the database answers, 503 otherwise',
  tags: ['operations'],
  response: {
    200: { $ref: 'readiness#' },
    503: { $ref: 'readiness#' },
  },
} as const;

export const metadataSchema = {
  summary: 'Authorization server metadata (RFC 8414, RFC 8628 §4)',
  tags: ['discovery'],
  response: {
    200: {
      type: 'object',
      properties: {
        issuer: { type: 'string' },
        device_authorization_endpoint: { type: 'string' },
        token_endpoint: { type: 'string' },
        grant_types_supported: { type: 'array', items: { type: 'string' } },
        response_types_supported: { type: 'array', items: { type: 'string' } },
        token_endpoint_auth_methods_supported: { type: 'array', items: { type: 'string' } },
        service_documentation: { type: 'string' },
      },
    },
  },
} as const;
