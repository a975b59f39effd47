// Package entry: the wasm-bindgen glue plus ChatError and ErrorCode.
import initWasm, * as glue from "./chat_sdk.js";

export { ChatSDK, ConversationManager, MessageManager } from "./chat_sdk.js";
export { ChatError } from "__CHAT_ERROR_SNIPPET__";

/** Names of the error codes (filled in by `init`). */
export let ErrorCode;

/** Loads the wasm module; `input` is a URL, a Response, bytes or a compiled module (optional). */
export default async function init(input) {
  const exports = await initWasm(input === undefined ? undefined : { module_or_path: input });
  ErrorCode = glue.errorCodes();
  return exports;
}
