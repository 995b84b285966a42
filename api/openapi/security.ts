/**
 * Says in the document what the auth guard (api/auth) enforces: every operation but the @Public
 * ones needs a bearer token (401 without a valid one) and a role (403 without it). The decorators
 * leave `x-public`, `x-required-role` and `x-cookie-auth` on each operation; this turns them into
 * security requirements and responses, so no controller has to repeat them.
 */
import type { OpenAPIObject } from '@nestjs/swagger';
import { COOKIE_AUTH_EXTENSION, PUBLIC_EXTENSION, REQUIRED_ROLE_EXTENSION } from '../auth/auth.decorators';
import { SESSION_COOKIE } from '../auth/bearer';
import { schemaRef } from './components';

export const BEARER_SCHEME = 'bearer';
export const SESSION_SCHEME = 'session';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Operation {
  security?: Array<Record<string, string[]>>;
  responses?: Record<string, unknown>;
  description?: string;
  [extension: `x-${string}`]: unknown;
}

export function applySecurity(document: OpenAPIObject): void {
  document.components = {
    ...document.components,
    securitySchemes: {
      ...document.components?.securitySchemes,
      [BEARER_SCHEME]: {
        type: 'http',
        scheme: 'bearer',
        description:
          "A static token from the server's tokens file, or a JWT from the configured issuer. `npm start` writes " +
          'a local admin token to .data/auth/admin-token.',
      },
      [SESSION_SCHEME]: {
        type: 'apiKey',
        in: 'cookie',
        name: SESSION_COOKIE,
        description: 'The same token in an HttpOnly cookie, set by the sign-in page; accepted by pages only.',
      },
    },
  };
  for (const item of Object.values(document.paths)) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (op) secureOperation(op);
    }
  }
}

function secureOperation(op: Operation): void {
  if (op[PUBLIC_EXTENSION] === true) {
    delete op[PUBLIC_EXTENSION];
    op.security = [];
    return;
  }
  const role = typeof op[REQUIRED_ROLE_EXTENSION] === 'string' ? op[REQUIRED_ROLE_EXTENSION] : 'viewer';
  op[REQUIRED_ROLE_EXTENSION] = role;
  op.security = [{ [BEARER_SCHEME]: [] }];
  if (op[COOKIE_AUTH_EXTENSION] === true) op.security.push({ [SESSION_SCHEME]: [] });
  delete op[COOKIE_AUTH_EXTENSION];
  op.description = [op.description, `Needs the \`${role}\` role (admin holds every role).`]
    .filter(Boolean)
    .join('\n\n');
  const responses = (op.responses ??= {});
  responses['401'] ??= {
    description: 'No bearer token, or one that is unknown, expired or not valid',
    headers: {
      'WWW-Authenticate': {
        description: 'Bearer realm="durable-agents"[, error="invalid_token"]',
        schema: { type: 'string' },
      },
    },
    content: { 'application/json': { schema: schemaRef('Error') } },
  };
  responses['403'] ??= {
    description: `The token's identity lacks the ${role} role`,
    content: { 'application/json': { schema: schemaRef('Error') } },
  };
  responses['503'] ??= {
    description: 'Tokens cannot be verified now (the JWKS URL is unreachable)',
    content: { 'application/json': { schema: schemaRef('Error') } },
  };
}
