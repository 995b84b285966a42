/**
 * How errors from the Temporal client become HTTP responses. Pure, so the mapping can be read
 * (and tested) apart from Nest.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import {
  ApplicationFailure,
  isGrpcServiceError,
  NamespaceNotFoundError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';

export interface HttpErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/** The 409 for a decision on a step someone already decided (the workflow's `AlreadyDecided` failure). */
export interface DecisionConflictBody extends HttpErrorBody {
  stepId?: string;
  decision?: 'approve' | 'reject';
  decidedBy?: string;
  decidedAt?: string;
}

/** The failure type the workflow's approval validator refuses a second decision with. */
export const ALREADY_DECIDED = 'AlreadyDecided';
/** The validator's refusal of a decider the step's approvers do not name: 403, history unchanged. */
export const NOT_AN_APPROVER = 'NotAnApprover';
/** The validator's refusal of a signed link's nonce it has already seen: the link worked once. */
export const LINK_USED = 'LinkUsed';

/** Validator failure types with a status of their own (any other validator refusal is a 409). */
const VALIDATOR_FAILURE_STATUS: Record<string, number> = { [NOT_AN_APPROVER]: 403, [LINK_USED]: 409 };

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const body = (statusCode: number, message: string): HttpErrorBody => ({
  statusCode,
  error: REASONS[statusCode] ?? 'Error',
  message,
});

/** The gRPC status behind an error, looking through the client's ServiceError wrapper. */
function grpcCode(err: unknown): GrpcStatus | undefined {
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (isGrpcServiceError(current)) return current.code;
    current = current.cause;
  }
  return undefined;
}

const GRPC_TO_HTTP: Partial<Record<GrpcStatus, number>> = {
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.FAILED_PRECONDITION]: 409,
  // Temporal's rate limits protect the server, whoever called: for our client that is "try later".
  [GrpcStatus.RESOURCE_EXHAUSTED]: 503,
};

/** A one-line description of a Temporal error, with the gRPC detail when there is one. */
export function describeTemporalError(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    if (isGrpcServiceError(current)) return current.details || current.message;
    current = current.cause;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The HTTP answer for a Temporal error, or undefined when `err` is not one. */
export function temporalErrorToHttp(err: unknown): HttpErrorBody | undefined {
  if (err instanceof WorkflowNotFoundError) {
    return body(404, err.workflowId ? `run "${err.workflowId}" not found` : err.message);
  }
  if (err instanceof WorkflowExecutionAlreadyStartedError) {
    return body(409, `run "${err.workflowId}" already exists`);
  }
  if (err instanceof WorkflowUpdateFailedError) {
    if (err.cause instanceof ApplicationFailure && err.cause.type === ALREADY_DECIDED) {
      return alreadyDecided(err.cause);
    }
    const status = err.cause instanceof ApplicationFailure && VALIDATOR_FAILURE_STATUS[err.cause.type ?? ''];
    if (status) return body(status, err.cause?.message ?? err.message);
    // The update's validator rejected it (e.g. the step is not waiting): the run's state conflicts.
    return body(409, err.cause?.message ?? err.message);
  }
  if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
    return body(504, `the run did not answer in time: ${err.message}`);
  }
  if (err instanceof NamespaceNotFoundError) {
    return body(503, `Temporal namespace "${err.namespace}" does not exist`);
  }
  const code = grpcCode(err);
  if (code === undefined) return err instanceof ServiceError ? body(502, err.message) : undefined;
  const status = GRPC_TO_HTTP[code] ?? 502;
  const detail = describeTemporalError(err);
  if (code === GrpcStatus.RESOURCE_EXHAUSTED) return body(status, `Temporal is overloaded, retry later: ${detail}`);
  if (status === 503) return body(status, `Temporal is unreachable: ${detail}`);
  if (status === 504) return body(status, `Temporal did not answer in time: ${detail}`);
  return body(status, detail);
}

/** details[0] is `{ stepId, decision, by, at }` (see the approval validator). */
function alreadyDecided(failure: ApplicationFailure): DecisionConflictBody {
  const [detail] = (failure.details ?? []) as Array<Record<string, unknown> | undefined>;
  const text = (key: string) => (typeof detail?.[key] === 'string' ? (detail[key] as string) : undefined);
  const decision = text('decision');
  return {
    ...body(409, failure.message),
    ...(text('stepId') !== undefined && { stepId: text('stepId') }),
    ...((decision === 'approve' || decision === 'reject') && { decision }),
    ...(text('by') !== undefined && { decidedBy: text('by') }),
    ...(text('at') !== undefined && { decidedAt: text('at') }),
  };
}
