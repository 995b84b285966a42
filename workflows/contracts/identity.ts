/**
 * Who is asking, and what they may do: the identity contract shared by the API (bearer tokens),
 * the approve signal (a token verified by an activity) and the workflow's approval checks.
 * Workflow-safe: no Node APIs.
 */

/** viewer: read; operator: start, cancel, rerun; approver: decide; admin: everything (specs, terminate, webhooks). */
export const ROLES = ['viewer', 'operator', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Identity {
  /** Stable user id (a JWT's `sub`, a static token's `user`). */
  user: string;
  groups: string[];
  roles: Role[];
}

/** admin holds every role; operator and approver each include viewer. */
export function hasRole(identity: Pick<Identity, 'roles'>, role: Role): boolean {
  if (identity.roles.includes('admin')) return true;
  if (role === 'viewer') return identity.roles.length > 0;
  return identity.roles.includes(role);
}

/**
 * Whether `who` is named by a step's `approvers`: an entry names a user id or a group
 * (`group:ops` and `user:ana` say which explicitly; a bare name matches either). No list: anyone
 * holding the approver role may decide.
 */
export function mayDecide(approvers: readonly string[] | undefined, who: Pick<Identity, 'user' | 'groups'>): boolean {
  if (!approvers || approvers.length === 0) return true;
  return approvers.some((entry) => {
    if (entry.startsWith('user:')) return entry.slice(5) === who.user;
    if (entry.startsWith('group:')) return who.groups.includes(entry.slice(6));
    return entry === who.user || who.groups.includes(entry);
  });
}

/** How a decision arrived: the REST API (and the inbox page), a signed link, or an `approve` signal. */
export type DecisionChannel = 'api' | 'link' | 'signal';
