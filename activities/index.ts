import { createHttpActivity } from './http';

export interface ActivityDeps {
  httpAllowedHosts: readonly string[];
}

/** Every generic activity the orchestrator worker registers, built from server-side deps. */
export function createActivities(deps: ActivityDeps) {
  return {
    http: createHttpActivity(deps.httpAllowedHosts),
  };
}

export type Activities = ReturnType<typeof createActivities>;
