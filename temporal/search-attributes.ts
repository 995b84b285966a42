import { temporal } from '@temporalio/proto';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../workflows/shared';

/** gRPC status ALREADY_EXISTS (kept local: importing grpc-js would split protobufjs copies). */
const GRPC_ALREADY_EXISTS = 6;
const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const TYPES = {
  Keyword: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KeywordList: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  Int: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  Double: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
} as const;

interface HasOperatorService {
  operatorService: {
    addSearchAttributes(req: temporal.api.operatorservice.v1.IAddSearchAttributesRequest): Promise<unknown>;
  };
}

/**
 * Registers the project's custom search attributes on an existing server. Idempotent: the dev
 * server started by `npm start` already has them, a cluster gets them on first start.
 */
export async function ensureSearchAttributes(connection: HasOperatorService, namespace: string): Promise<void> {
  const searchAttributes = Object.fromEntries(
    Object.entries(CUSTOM_SEARCH_ATTRIBUTES).map(([name, type]) => [name, TYPES[type]]),
  );
  try {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
  } catch (err) {
    if ((err as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw err;
  }
}
