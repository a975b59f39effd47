// Typings of the public API; reference: docs/api.md (https://github.com/chat-sdk-wasm/chat-sdk/blob/main/docs/api.md).

/**
 * Loads the wasm module. Optional: `ChatSDK.create` loads it itself. Call it to pass a custom URL,
 * or the bytes of `chat_sdk_bg.wasm` where `fetch` cannot load files (Node). Loads once: later
 * calls return the first load (a failed load may be retried).
 */
export default function init(
  input?: string | URL | Request | Response | BufferSource | WebAssembly.Module | Promise<Response>,
): Promise<unknown>;

/** Every rejection of the SDK. Plain JavaScript: usable before the wasm is loaded. */
export class ChatError extends Error {
  readonly code: number;
  constructor(code: number, message: string);
}

/** Names of the error codes. Plain JavaScript: usable before the wasm is loaded. */
export declare const ErrorCode: Readonly<{
  CONVERSATION_NOT_FOUND: 2500;
  SDK_NOT_INITIALIZED: 6013;
  SDK_NOT_LOGGED_IN: 6014;
  INVALID_PARAMETERS: 6017;
  DATABASE_OPERATE_FAILED: 6019;
  FREQUENCY_LIMIT: 9506;
  NETWORK_DISCONNECTED: 9508;
  REQUEST_TIMEOUT: 9520;
  SERVER_ERROR: 9530;
  NO_PERMISSION: 10007;
  USERSIG_EXPIRED: 70001;
  USERSIG_INVALID: 70003;
}>;

export interface ChatOptions {
  /** Positive integer. */
  sdkAppID: number;
  /** http(s) base URL of the chat server. */
  serverURL: string;
  /** Default "indexeddb"; falls back to memory (console warning + onStorageFallback). */
  storage?: "indexeddb" | "memory";
  /** Default "native" (`c2c_<userID>`, `group_<groupID>`); "web" is `C2C…` / `GROUP…`. */
  conversationIDStyle?: "native" | "web";
}

export interface SDKListener {
  onConnecting?(): void;
  onConnectSuccess?(): void;
  onConnectFailed?(code: number, message: string): void;
  onUserSigExpired?(): void;
  onStorageFallback?(reason: string): void;
}

export interface Message {
  msgID: string;
  conversationID: string;
  sender: string;
  text: string;
  /** Milliseconds since the Unix epoch. */
  timestamp: number;
  seq: number;
}

export interface Conversation {
  conversationID: string;
  /** 1 = C2C, 2 = GROUP. */
  type: 1 | 2;
  userID?: string;
  groupID?: string;
  showName: string;
  unreadCount: number;
  lastMessage?: Message;
  /** The list is sorted by orderKey, newest first. */
  orderKey: number;
}

export interface ConversationOperationResult {
  conversationID: string;
  resultCode: number;
  resultInfo: string;
}

export interface ConversationListResult {
  conversationList: Conversation[];
  nextSeq: number;
  isFinished: boolean;
}

export interface ConversationListener {
  onConversationDeleted?(conversationIDList: string[]): void;
  onNewConversation?(conversationList: Conversation[]): void;
  onConversationChanged?(conversationList: Conversation[]): void;
  onTotalUnreadMessageCountChanged?(totalUnreadCount: number): void;
  onSyncServerStart?(): void;
  onSyncServerFinish?(): void;
  onSyncServerFailed?(): void;
}

export interface AdvancedMsgListener {
  onRecvNewMessage?(message: Message): void;
}

export class ConversationManager {
  private constructor();
  getConversationList(nextSeq: number, count: number): Promise<ConversationListResult>;
  /** Rejects 2500 if the conversation is unknown. */
  getConversation(conversationID: string): Promise<Conversation>;
  getTotalUnreadMessageCount(): Promise<number>;
  cleanConversationUnreadMessageCount(conversationID: string): Promise<void>;
  deleteConversation(conversationID: string): Promise<void>;
  /** 1–100 IDs; one result per distinct ID, in order of first appearance. */
  deleteConversationList(
    conversationIDList: string[],
    clearMessage: boolean,
  ): Promise<ConversationOperationResult[]>;
  addConversationListener(listener: ConversationListener): void;
  removeConversationListener(listener: ConversationListener): void;
  /** A no-op: the manager belongs to its ChatSDK, and the garbage collector releases both. */
  free(): void;
}

/** Reads the whole conversation list, newest first, 100 per page (getConversationList in a loop). */
export function loadAllConversations(manager: ConversationManager): Promise<Conversation[]>;

export class MessageManager {
  private constructor();
  /** text: 1–12000 bytes. */
  sendTextMessage(conversationID: string, text: string): Promise<Message>;
  /** Newest first; count 1–100. */
  getHistoryMessageList(conversationID: string, count: number, lastMsgID?: string): Promise<Message[]>;
  addAdvancedMsgListener(listener: AdvancedMsgListener): void;
  removeAdvancedMsgListener(listener: AdvancedMsgListener): void;
  /** A no-op: the manager belongs to its ChatSDK, and the garbage collector releases both. */
  free(): void;
}

export class ChatSDK {
  private constructor();
  /**
   * Validates the options and makes an SDK (storage opens at login). Loads the wasm first if
   * `init` was not called; rejects with a ChatError (6013) if it cannot be loaded.
   */
  static create(options: ChatOptions): Promise<ChatSDK>;
  login(userID: string, userSig: string): Promise<void>;
  logout(): Promise<void>;
  getLoginUser(): string | null;
  /** The same object on every call. */
  getConversationManager(): ConversationManager;
  /** The same object on every call. */
  getMessageManager(): MessageManager;
  addSDKListener(listener: SDKListener): void;
  removeSDKListener(listener: SDKListener): void;
  /** Closes connections, channels and the database; later calls reject with 6013. */
  destroy(): Promise<void>;
  /**
   * Optional (the garbage collector does it): releases this handle's wasm memory now. It does
   * not stop the SDK (call `destroy()` first for that) and never removes listeners; the handle is
   * unusable afterwards, while its managers keep working.
   */
  free(): void;
}
