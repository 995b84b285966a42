/** Request shapes of the history, steps, replay, rerun and retry routes, validated with zod. */
import { z } from 'zod';
import { stepIdSchema } from '../../workflows/spec/common';
import { clientRunIdSchema } from '../workflows/run-requests';

/** Temporal run ids are UUIDs; anything else could only be a 400 from Temporal, said less clearly. */
export const temporalRunIdSchema = z
  .string()
  .regex(
    /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/,
    'must be a Temporal run id (a UUID, as in GET /workflows/:id)',
  );

export const runSelectorQuerySchema = z.strictObject({
  runId: temporalRunIdSchema.optional().meta({
    description:
      'One execution of the workflow id (e.g. an earlier one of a continue-as-new chain); default the latest.',
  }),
});
export type RunSelectorQuery = z.infer<typeof runSelectorQuerySchema>;

const newRunIdField = clientRunIdSchema.optional().meta({
  description:
    'Client-chosen id of the new run (`<spec name>:<runId>`): the same request again returns that run (200, ' +
    'created: false); another request with the same runId is a 409.',
});

export const rerunBodySchema = z.strictObject({
  fromStep: stepIdSchema.meta({
    description:
      "A top-level step of the run's spec: it and every step after it run again; the steps before it are not " +
      'executed again, their recorded outputs are reused.',
  }),
  runId: newRunIdField,
});
export type RerunBody = z.infer<typeof rerunBodySchema>;

export const retryBodySchema = z.strictObject({ runId: newRunIdField }).optional().meta({ description: 'Optional.' });
export type RetryBody = z.infer<typeof retryBodySchema>;
