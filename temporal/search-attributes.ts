import { temporal } from '@temporalio/proto';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/contracts/run';

/** gRPC status codes (kept local: importing grpc-js would split protobufjs copies). */
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_ALREADY_EXISTS = 6;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;
const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const TYPES = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  Datetime: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
} as const;

/** Every custom search attribute with its indexed type, as addSearchAttributes takes them. */
export function customSearchAttributeTypes(): Record<string, temporal.api.enums.v1.IndexedValueType> {
  return Object.fromEntries(Object.entries(CUSTOM_SEARCH_ATTRIBUTES).map(([name, type]) => [name, TYPES[type]]));
}

interface HasOperatorService {
  operatorService: {
    listSearchAttributes(
      req: temporal.api.operatorservice.v1.IListSearchAttributesRequest,
    ): Promise<temporal.api.operatorservice.v1.IListSearchAttributesResponse>;
    addSearchAttributes(req: temporal.api.operatorservice.v1.IAddSearchAttributesRequest): Promise<unknown>;
  };
  workflowService: {
    countWorkflowExecutions(req: temporal.api.workflowservice.v1.ICountWorkflowExecutionsRequest): Promise<unknown>;
  };
}

export interface EnsureSearchAttributesOptions {
  /**
   * Ask the server to add the missing ones (default true). False where registering is the
   * operator's job, as on Temporal Cloud: then missing ones only stop start-up with a message.
   */
  register?: boolean;
}

interface MissingAttribute {
  name: string;
  type: string;
}

/**
 * The namespace lacks search attributes the workflows set, and this process may not (or could
 * not) register them. Runs would fail on their first upsert, so start-up stops with `message`,
 * which names them and the commands that add them.
 */
export class MissingSearchAttributesError extends Error {
  constructor(
    readonly namespace: string,
    readonly missing: readonly MissingAttribute[],
    readonly reason: string,
  ) {
    super(missingSearchAttributesMessage(namespace, missing, reason));
    this.name = 'MissingSearchAttributesError';
  }
}

/** Registering is the operator's job on an API-key connection (Temporal Cloud refuses it there). */
export function mayRegisterSearchAttributes(config: { access?: { apiKey?: string } }): boolean {
  return !config.access?.apiKey;
}

/**
 * Makes sure the namespace has every custom search attribute of the project and returns the
 * names it registered. Asking first keeps a restart quiet: the server logs a warning for every
 * attribute it is asked to add again. Where the operator API is refused (PERMISSION_DENIED,
 * UNIMPLEMENTED) or `register` is false, missing attributes throw MissingSearchAttributesError.
 */
export async function ensureSearchAttributes(
  connection: HasOperatorService,
  namespace: string,
  options: EnsureSearchAttributesOptions = {},
): Promise<string[]> {
  const missing = await findMissing(connection, namespace);
  if (missing.length === 0) return [];
  if (options.register === false) {
    throw new MissingSearchAttributesError(namespace, missing, 'on an API-key connection adding them is left to you');
  }
  const searchAttributes = Object.fromEntries(
    missing.map(({ name, type }) => [name, TYPES[type as keyof typeof TYPES]]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Another process registered them in between.
    if (grpcCode(err) === GRPC_ALREADY_EXISTS) return missing.map(({ name }) => name);
    if (!isRefused(err)) throw err;
    throw new MissingSearchAttributesError(namespace, missing, `the server refused to add them (${describe(err)})`);
  }
  return missing.map(({ name }) => name);
}

async function findMissing(connection: HasOperatorService, namespace: string): Promise<MissingAttribute[]> {
  const all = Object.entries(CUSTOM_SEARCH_ATTRIBUTES).map(([name, type]) => ({ name, type }));
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return all.filter(({ name }) => !customAttributes?.[name]);
  } catch (err) {
    if (!isRefused(err)) throw err;
  }
  // Without the operator API, the workflow API tells too: a visibility query on an attribute the
  // namespace lacks fails with INVALID_ARGUMENT naming it.
  const missing: MissingAttribute[] = [];
  for (const attribute of all) {
    try {
      await connection.workflowService.countWorkflowExecutions({ namespace, query: `${attribute.name} IS NULL` });
    } catch (err) {
      if (grpcCode(err) !== GRPC_INVALID_ARGUMENT || !describe(err).includes(attribute.name)) throw err;
      missing.push(attribute);
    }
  }
  return missing;
}

/** What to print when start-up stops: the missing attributes and the commands that add them. */
export function missingSearchAttributesMessage(
  namespace: string,
  missing: readonly MissingAttribute[],
  reason: string,
): string {
  const list = missing.map(({ name, type }) => `${name} (${type})`).join(', ');
  const tcld = missing.map(({ name, type }) => `--sa "${name}=${type}"`).join(' ');
  const cli = missing.map(({ name, type }) => `--name ${name} --type ${type}`).join(' ');
  return [
    `namespace "${namespace}" lacks the search attributes the workflows set: ${list}; ${reason}.`,
    'Add them once, then start again:',
    `  Temporal Cloud: tcld namespace search-attributes add --namespace ${namespace} ${tcld}`,
    `                  (or in the Cloud UI: Namespaces > ${namespace} > Search Attributes)`,
    `  self-hosted:    temporal operator search-attribute create --namespace ${namespace} ${cli}`,
  ].join('\n');
}

function grpcCode(err: unknown): number | undefined {
  return (err as { code?: number } | null)?.code;
}

/** The operator API is not ours to use here: not allowed, or not offered. */
function isRefused(err: unknown): boolean {
  const code = grpcCode(err);
  return code === GRPC_PERMISSION_DENIED || code === GRPC_UNIMPLEMENTED;
}

function describe(err: unknown): string {
  return (err as { details?: string } | null)?.details || (err instanceof Error ? err.message : String(err));
}
