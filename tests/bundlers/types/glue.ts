// The framework glue's typings, as an app sees them through the package's exports map (strict).
import { ref } from "vue";
import type { ChatSDK, Conversation } from "chat-sdk-wasm";
import * as react from "chat-sdk-wasm/react";
import * as vue from "chat-sdk-wasm/vue";

const options = {
  sdkAppID: 1400000001,
  serverURL: "http://127.0.0.1:8080",
  userID: "alice" as string | null,
  userSig: async (userID: string) => `sig-for-${userID}`,
};

// React: plain values.
const { sdk, error } = react.useChatSDK(options);
const current: ChatSDK | null = sdk;
const why: unknown = error;
const list = react.useConversations(sdk);
const rows: Conversation[] = list.conversations;
const deleted: string[] = list.lastDeleted;
const done: Promise<void> = list.deleteConversation("c2c_bob");
const total: number = react.useTotalUnreadMessageCount(sdk);
react.useChatSDK({ ...options, userSig: "a-static-sig", storage: "memory", conversationIDStyle: "web" });

// Vue: refs and getters.
const v = vue.useChatSDK(() => options);
const vSdk: ChatSDK | null = v.sdk.value;
const vList = vue.useConversations(v.sdk);
const vRows: Conversation[] = vList.conversations.value;
const vTotal: number = vue.useTotalUnreadMessageCount(() => v.sdk.value).value;
vue.useChatSDK(ref({ ...options, userID: null }));

// Wrong use is refused.
// @ts-expect-error sdkAppID is required
react.useChatSDK({ serverURL: "x", userID: "a", userSig: "s" });
// @ts-expect-error userSig must be a string or a function returning a Promise<string>
react.useChatSDK({ ...options, userSig: 42 });
// @ts-expect-error the conversation list is not a number
const wrong: number = list.conversations;
// @ts-expect-error a ref of an SDK is not an SDK
const wrongSdk: ChatSDK = v.sdk;

export { current, why, rows, deleted, done, total, vSdk, vRows, vTotal, wrong, wrongSdk };
