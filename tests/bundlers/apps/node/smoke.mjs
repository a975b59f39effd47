// Node: the package is ESM only (`import`, not `require`), and init() needs the wasm bytes
// (Node's fetch cannot read file: URLs). Usage: node smoke.mjs <chat-server URL>
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as sdk from "chat-sdk-wasm";
import { smoke } from "../common/smoke.js";

const bytes = await readFile(fileURLToPath(import.meta.resolve("chat-sdk-wasm/chat_sdk_bg.wasm")));
const summary = await smoke(sdk, {
  serverURL: process.argv[2],
  storage: "memory",
  initInput: bytes,
  waitForPush: typeof WebSocket === "function", // Node 20 has none
});
console.log(JSON.stringify(summary));
// The push connection retries in the background until destroy(); exit now that we are done.
process.exit(0);
