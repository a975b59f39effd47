// Typings of `chat-sdk-wasm/vue` (vue.js). Reference: https://github.com/chat-sdk-wasm/chat-sdk/blob/main/docs/api.md (Vue composables).
import type { MaybeRefOrGetter, Ref, ShallowRef } from "vue";
import type { ChatOptions, ChatSDK, Conversation } from "./index.js";

export interface UseChatSDKOptions extends ChatOptions {
  /** No SDK is created while this is null, undefined or "". */
  userID: string | null | undefined;
  /** The userSig, or a function that fetches it (from your backend) for a userID. */
  userSig: string | ((userID: string) => Promise<string>);
}

export interface UseChatSDKResult {
  /** The logged-in SDK; null while logging in, after an error, or without a userID. */
  sdk: ShallowRef<ChatSDK | null>;
  /** Why creating or logging in failed (a ChatError, or what `userSig()` threw). */
  error: ShallowRef<unknown>;
}

export interface UseConversationsResult {
  /** All conversations, newest first; updated by the SDK's listeners. */
  conversations: Ref<Conversation[]>;
  /** The IDs of the last onConversationDeleted event. */
  lastDeleted: Ref<string[]>;
  /** The last failed re-read, if any. */
  error: ShallowRef<unknown>;
  /** Resolves once deleted (onConversationDeleted has fired by then); rejects with a ChatError. */
  deleteConversation(conversationID: string): Promise<void>;
}

/** Creates a ChatSDK and logs in once mounted; destroyed when the options change or the scope ends. */
export function useChatSDK(options: MaybeRefOrGetter<UseChatSDKOptions>): UseChatSDKResult;
export function useConversations(sdk: MaybeRefOrGetter<ChatSDK | null>): UseConversationsResult;
export function useTotalUnreadMessageCount(sdk: MaybeRefOrGetter<ChatSDK | null>): Ref<number>;
