// Package entry: the wasm-bindgen glue, loaded on first use. `ErrorCode` and `ChatError` are plain
// JavaScript (the table is generated at build time from the core's), so they work before any init.
import initWasm, { ChatSDK, ConversationManager, MessageManager } from "./chat_sdk.js";
import { ChatError } from "__CHAT_ERROR_SNIPPET__";

export { ChatSDK, ConversationManager, MessageManager, ChatError };

/** Names of the error codes. */
export const ErrorCode = Object.freeze(__ERROR_CODES__);

let loading;

/**
 * Loads the wasm module (once: later calls share the first load; a failed load may be retried).
 * `input` is a URL, a Response, bytes or a compiled module; optional in browsers and bundlers.
 */
export default function init(input) {
  if (!loading) {
    loading = initWasm(input === undefined ? undefined : { module_or_path: input });
    loading.catch(() => { loading = undefined; });
  }
  return loading;
}

// ChatSDK.create loads the wasm itself; a load failure is a ChatError like any other.
const createInWasm = ChatSDK.create;
ChatSDK.create = async function create(options) {
  try {
    await init();
  } catch (e) {
    throw new ChatError(ErrorCode.SDK_NOT_INITIALIZED,
      `cannot load the SDK's wasm module (${(e && e.message) || e}): call init(urlOrBytes) first`);
  }
  return createInWasm.call(ChatSDK, options);
};

// A manager is one object per ChatSDK (getConversationManager() returns it every time), so
// freeing it would break every other holder: its free() is a no-op. The garbage collector
// releases it with its ChatSDK.
for (const Manager of [ConversationManager, MessageManager]) {
  Manager.prototype.free = function free() {};
}

/** Reads the whole conversation list, newest first, 100 per page (the React hooks and the Vue
 *  composables use it too). */
export async function loadAllConversations(manager) {
  const all = [];
  let nextSeq = 0;
  for (;;) {
    const page = await manager.getConversationList(nextSeq, 100);
    all.push(...page.conversationList);
    if (page.isFinished) return all;
    nextSeq = page.nextSeq;
  }
}
