import type { Identity } from '../../workflows/contracts/identity';

/** Where the guard leaves the verified identity on the request. */
const IDENTITY = Symbol('identity');

export interface AuthRequest {
  method: string;
  headers: Record<string, string | string[] | undefined>;
  [IDENTITY]?: Identity;
}

export function setIdentity(req: AuthRequest, identity: Identity): void {
  req[IDENTITY] = identity;
}

export function identityOf(req: AuthRequest): Identity | undefined {
  return req[IDENTITY];
}
