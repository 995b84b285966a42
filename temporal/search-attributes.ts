import { temporal } from '@temporalio/proto';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/contracts/run';

/** gRPC status ALREADY_EXISTS (kept local: importing grpc-js would split protobufjs copies). */
const GRPC_ALREADY_EXISTS = 6;
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
}

/**
 * Registers those of the project's custom search attributes that the namespace lacks, and
 * returns their names. Asking first keeps a restart quiet: the server logs a warning for every
 * attribute it is asked to add again.
 */
export async function ensureSearchAttributes(connection: HasOperatorService, namespace: string): Promise<string[]> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.entries(CUSTOM_SEARCH_ATTRIBUTES).filter(([name]) => !customAttributes?.[name]);
  if (missing.length === 0) return [];
  const searchAttributes = Object.fromEntries(missing.map(([name, type]) => [name, TYPES[type]]));
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    // Another process registered them in between.
    if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
  }
  return missing.map(([name]) => name);
}
