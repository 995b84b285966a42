/** Tools are addressed as `server.tool`; server names hold no dots, tool names may. */
export interface ToolAddress {
  server: string;
  tool: string;
}

export function parseToolAddress(address: string): ToolAddress | undefined {
  const dot = address.indexOf('.');
  if (dot <= 0 || dot === address.length - 1) return undefined;
  return { server: address.slice(0, dot), tool: address.slice(dot + 1) };
}
