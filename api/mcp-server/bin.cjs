#!/usr/bin/env node
// The `durable-agents-mcp` command (package.json "bin"): the stdio MCP server, api/mcp-stdio.ts,
// run through tsx as every entry of this repository is, with the repository's tsconfig
// (decorators) whatever directory the MCP client starts it in.
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry */
const path = require('node:path');
process.env.TSX_TSCONFIG_PATH ??= path.join(__dirname, '..', '..', 'tsconfig.json');
require('tsx/cjs');
require('../mcp-stdio.ts');
