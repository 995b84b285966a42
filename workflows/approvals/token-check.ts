import { isCancellation, proxyActivities } from '@temporalio/workflow';
import type { DecisionScope, IdentityActivities, TokenCheck } from '../contracts/run';
import { errorMessage } from '../steps/errors';

/**
 * The token an `approve` signal carries, checked by the orchestrator worker's verifyDecisionToken
 * (a scoped decision token for `scope`, or a bearer token of the API's identity scheme). A check
 * that cannot be made (no worker has the activity, its keys stay unreachable) is a refusal too;
 * undefined when the run is being cancelled. The token stays opaque here: the API's history views
 * redact it, and a redacted history must replay the same.
 */
export async function checkDecisionToken(scope: DecisionScope, token: string): Promise<TokenCheck | undefined> {
  const { stepId } = scope;
  const { verifyDecisionToken } = proxyActivities<IdentityActivities>({
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 3, initialInterval: '500ms', backoffCoefficient: 2 },
    summary: `${stepId}: check the signalled decision's token`,
  });
  try {
    return await verifyDecisionToken(token, scope);
  } catch (err) {
    if (isCancellation(err)) return undefined;
    return { ok: false, reason: `the token could not be checked: ${errorMessage(err)}` };
  }
}
