import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolContent, ToolOutput } from '../../workflows/contracts/tool';
import type { BlobStore } from './blob-store';

type Block = CallToolResult['content'][number];

/** Optional fields absent rather than undefined, so outputs compare and serialise alike. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

async function convert(block: Block, blobs: BlobStore): Promise<ToolContent> {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'image':
    case 'audio':
      return { type: block.type, ...(await blobs.put(block.data, block.mimeType)) };
    case 'resource': {
      const r = block.resource;
      if ('text' in r && typeof r.text === 'string') {
        return defined({ type: 'resource', uri: r.uri, mimeType: r.mimeType, text: r.text });
      }
      const blob = 'blob' in r && typeof r.blob === 'string' ? r.blob : '';
      return { type: 'resource', uri: r.uri, ...(await blobs.put(blob, r.mimeType ?? 'application/octet-stream')) };
    }
    case 'resource_link':
      return defined({
        type: 'resource_link',
        uri: block.uri,
        name: block.name,
        mimeType: block.mimeType,
        description: block.description,
      });
  }
}

/** A tool result as a step output: text joined, structured content as is, binaries as references. */
export async function toToolOutput(result: CallToolResult, blobs: BlobStore): Promise<ToolOutput> {
  const content = await Promise.all((result.content ?? []).map((b) => convert(b, blobs)));
  const text = content.flatMap((c) => (c.type === 'text' ? [c.text] : [])).join('\n');
  const output: ToolOutput = { text, content };
  if (result.structuredContent !== undefined) output.structured = result.structuredContent;
  return output;
}
