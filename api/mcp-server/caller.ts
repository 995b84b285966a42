/**
 * Who calls an MCP tool, and the roles the tools need: the REST API's (viewer reads, operator
 * starts and cancels, approver decides), with its refusal message.
 */
import { ForbiddenException } from '@nestjs/common';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { hasRole, type Identity, type Role } from '../../workflows/contracts/identity';

/** Where the HTTP endpoint leaves the verified identity in the request's AuthInfo. */
const IDENTITY_KEY = 'identity';

/** The AuthInfo the HTTP transport hands to every handler of a request with this token. */
export function authInfoFor(token: string, identity: Identity): AuthInfo {
  return { token, clientId: identity.user, scopes: [...identity.roles], extra: { [IDENTITY_KEY]: identity } };
}

export function identityOfAuthInfo(authInfo: AuthInfo | undefined): Identity | undefined {
  const identity = authInfo?.extra?.[IDENTITY_KEY];
  return identity && typeof identity === 'object' ? (identity as Identity) : undefined;
}

/** 403 in the words of the REST guard, so a model reads the same refusal either way. */
export function requireRole(identity: Identity | undefined, role: Role): Identity {
  if (!identity) throw new ForbiddenException('no identity: this session was not authenticated');
  if (!hasRole(identity, role)) {
    const held = identity.roles.length > 0 ? `holds ${identity.roles.join(', ')}` : 'holds no role';
    throw new ForbiddenException(`"${identity.user}" ${held}; this needs the ${role} role`);
  }
  return identity;
}
