/**
 * The product's metrics that workers export through the SDK runtime's Prometheus exporter (beside
 * the SDK's own `temporal_*` ones): their names, label values and bucket boundaries, shared by the
 * workflow code and activities that record them and the worker that sets the buckets. Labels are
 * bounded sets (step kind, status, model, device); never a workflow or run id.
 */

/** Histogram (seconds, workflow clock) of each step from start to end; labels `kind`, `status`. */
export const STEP_DURATION_METRIC = 'agent_step_duration_seconds';
/** Counter of model tokens; labels `model`, `direction` (`input` or `output`). */
export const LLM_TOKENS_METRIC = 'agent_llm_tokens';
/** Histogram (US dollars) of each model reply's cost, so `_sum` is the spend; label `model`. */
export const LLM_COST_METRIC = 'agent_llm_call_cost_usd';
/** Counter of uploads a device worker ran; labels `device`, `result` (`completed` or `failed`). */
export const DEVICE_UPLOADS_METRIC = 'agent_device_uploads';
/** Histogram (seconds) of each upload a device worker ran; labels `device`, `result`. */
export const DEVICE_UPLOAD_DURATION_METRIC = 'agent_device_upload_duration_seconds';

/** From a tool call to an approval waiting a day. */
const STEP_SECONDS = [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 86400];
const UPLOAD_SECONDS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];
const COST_USD = [0.0001, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5];

export const PRODUCT_HISTOGRAM_BUCKETS: Record<string, number[]> = {
  [STEP_DURATION_METRIC]: STEP_SECONDS,
  [DEVICE_UPLOAD_DURATION_METRIC]: UPLOAD_SECONDS,
  [LLM_COST_METRIC]: COST_USD,
};
