// Typings of `chat-sdk-wasm/react` (react.js). Reference: https://github.com/chat-sdk-wasm/chat-sdk/blob/main/docs/api.md (React hooks).
import type { ChatOptions, ChatSDK, Conversation } from "./index.js";

export interface UseChatSDKOptions extends ChatOptions {
  /** No SDK is created while this is null, undefined or "". */
  userID: string | null | undefined;
  /** The userSig, or a function that fetches it (from your backend) for a userID. */
  userSig: string | ((userID: string) => Promise<string>);
}

export interface UseChatSDKResult {
  /** The logged-in SDK; null while logging in, after an error, or without a userID. */
  sdk: ChatSDK | null;
  /** Why creating or logging in failed (a ChatError, or what `userSig()` threw). */
  error: unknown;
}

export interface UseConversationsResult {
  /** All conversations, newest first; updated by the SDK's listeners. */
  conversations: Conversation[];
  /** The IDs of the last onConversationDeleted event. */
  lastDeleted: string[];
  /** The last failed re-read, if any. */
  error: unknown;
  /** Resolves once deleted (onConversationDeleted has fired by then); rejects with a ChatError. */
  deleteConversation(conversationID: string): Promise<void>;
}

/** Creates a ChatSDK and logs in, inside an effect; destroyed on unmount or when an option changes. */
export function useChatSDK(options: UseChatSDKOptions): UseChatSDKResult;
export function useConversations(sdk: ChatSDK | null): UseConversationsResult;
export function useTotalUnreadMessageCount(sdk: ChatSDK | null): number;
