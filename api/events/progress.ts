/**
 * step.progress data from an activity's heartbeat details: what the activities that report
 * progress heartbeat (activities/device: UploadProgress and AcquireWaitProgress, activities/build: BuildProgress,
 * activities/llm: LlmHeartbeat, activities/mcp: the tool's progress notification), said plainly.
 */

/** Longest heartbeat (characters of JSON) passed on as it is when its shape is not one we know. */
const MAX_RAW_DETAILS_CHARS = 2048;
/** Build or uploader log lines a progress event carries at most (the newest). */
const MAX_LOG_LINES = 20;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const lines = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((l): l is string => typeof l === 'string').slice(-MAX_LOG_LINES) : undefined;

/** What a progress event says about one running activity's latest heartbeat; undefined: nothing to say. */
export function progressFromHeartbeat(details: unknown): Record<string, unknown> | undefined {
  if (!isRecord(details)) return undefined;
  // An upload: phase, bytes written of total (UploadProgress).
  const total = num(details.totalBytes);
  const written = num(details.bytesWritten);
  if (typeof details.phase === 'string' && total !== undefined && written !== undefined) {
    return {
      upload: {
        phase: details.phase,
        bytesWritten: written,
        totalBytes: total,
        percent: total > 0 ? Math.min(100, Math.floor((written / total) * 100)) : 0,
        ...(lines(details.log) && { log: lines(details.log) }),
      },
    };
  }
  // A wait in a device's line (AcquireWaitProgress): 1 = next; 0 = not in line yet.
  const position = num(details.position);
  const waiting = num(details.waiting);
  if (typeof details.deviceId === 'string' && position !== undefined && waiting !== undefined) {
    return { deviceQueue: { deviceId: details.deviceId, position, waiting } };
  }
  // A build: output bytes so far and its last lines (BuildProgress).
  const bytes = num(details.bytes);
  const tail = lines(details.tail);
  if (bytes !== undefined && tail) return { build: { outputBytes: bytes, logTail: tail } };
  // A model call: the tokens it has spent so far, over its attempts (LlmHeartbeat).
  if (typeof details.provider === 'string') {
    const spent = isRecord(details.spent) ? details.spent : {};
    const [input, output] = [num(spent.inputTokens), num(spent.outputTokens)];
    if (input === undefined || output === undefined) return undefined;
    const costUsd = num(spent.costUsd);
    return {
      model: { provider: details.provider, tokens: { input, output }, ...(costUsd !== undefined && { costUsd }) },
    };
  }
  // A counter, such as an MCP tool's progress notification.
  const progress = num(details.progress);
  if (progress !== undefined) {
    const of = num(details.total);
    return {
      progress: {
        done: progress,
        ...(of !== undefined && { total: of, percent: of > 0 ? Math.min(100, Math.floor((progress / of) * 100)) : 0 }),
        ...(typeof details.message === 'string' && { message: details.message }),
      },
    };
  }
  const raw = JSON.stringify(details);
  return raw.length <= MAX_RAW_DETAILS_CHARS ? { details } : undefined;
}
