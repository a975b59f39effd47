// Uses the whole public contract (docs/api.md) against pkg/index.d.ts. Compiled with
// `tsc --noEmit --strict -p tests/types`; the @ts-expect-error lines check that wrong use is refused.
import init, {
  ChatSDK, ChatError, ErrorCode,
  type ChatOptions, type SDKListener, type Conversation, type ConversationListener,
  type ConversationOperationResult, type Message, type ConversationManager, type MessageManager,
} from "../../pkg/index.js";

export async function usage(): Promise<void> {
  await init();
  await init("/pkg/chat_sdk_bg.wasm");
  await init(new URL("https://example.com/chat_sdk_bg.wasm"));

  const options: ChatOptions = { sdkAppID: 1400000001, serverURL: "http://127.0.0.1:8080", storage: "indexeddb", conversationIDStyle: "web" };
  const memory: ChatOptions = { sdkAppID: 1, serverURL: "https://chat.example.com", storage: "memory", conversationIDStyle: "native" };
  const sdk: ChatSDK = await ChatSDK.create(options);
  await ChatSDK.create(memory);
  await ChatSDK.create({ sdkAppID: 1, serverURL: "http://x" });

  const sdkListener: SDKListener = {
    onConnecting() {}, onConnectSuccess() {},
    onConnectFailed(code: number, message: string) { void code; void message; },
    onUserSigExpired() {}, onStorageFallback(reason: string) { void reason; },
  };
  sdk.addSDKListener(sdkListener);
  sdk.removeSDKListener(sdkListener);

  const loggedIn: void = await sdk.login("alice", "sig");
  void loggedIn;
  const user: string | null = sdk.getLoginUser();
  void user;

  const cm: ConversationManager = sdk.getConversationManager();
  const mm: MessageManager = sdk.getMessageManager();

  const page = await cm.getConversationList(0, 100);
  const list: Conversation[] = page.conversationList;
  const next: number = page.nextSeq;
  const finished: boolean = page.isFinished;
  void next; void finished;
  for (const c of list) {
    const id: string = c.conversationID;
    const type: 1 | 2 = c.type;
    const peer: string | undefined = c.userID ?? c.groupID;
    const name: string = c.showName;
    const unread: number = c.unreadCount;
    const order: number = c.orderKey;
    const last: Message | undefined = c.lastMessage;
    if (last) {
      const { msgID, conversationID, sender, text, timestamp, seq } = last;
      void [msgID, conversationID, sender, text, timestamp, seq];
    }
    void [id, type, peer, name, unread, order];
  }
  const one: Conversation = await cm.getConversation("c2c_bob");
  void one;
  const total: number = await cm.getTotalUnreadMessageCount();
  void total;
  const cleaned: void = await cm.cleanConversationUnreadMessageCount("C2Cbob");
  void cleaned;

  const deleted: void = await cm.deleteConversation("c2c_bob");
  void deleted;
  const results: ConversationOperationResult[] = await cm.deleteConversationList(["c2c_bob", "GROUPg1"], true);
  for (const r of results) {
    const triple: [string, number, string] = [r.conversationID, r.resultCode, r.resultInfo];
    void triple;
  }

  const listener: ConversationListener = {
    onConversationDeleted(ids: string[]) { void ids; },
    onNewConversation(l: Conversation[]) { void l; },
    onConversationChanged(l: Conversation[]) { void l; },
    onTotalUnreadMessageCountChanged(n: number) { void n; },
    onSyncServerStart() {}, onSyncServerFinish() {}, onSyncServerFailed() {},
  };
  cm.addConversationListener(listener);
  cm.addConversationListener({});
  cm.removeConversationListener(listener);

  const sent: Message = await mm.sendTextMessage("c2c_bob", "hello");
  const history: Message[] = await mm.getHistoryMessageList("c2c_bob", 20);
  await mm.getHistoryMessageList("c2c_bob", 20, sent.msgID);
  void history;
  const msgListener = { onRecvNewMessage(m: Message) { void m; } };
  mm.addAdvancedMsgListener(msgListener);
  mm.removeAdvancedMsgListener(msgListener);

  try {
    await sdk.logout();
    await sdk.destroy();
  } catch (e) {
    if (e instanceof ChatError) {
      const code: number = e.code;
      const message: string = e.message;
      const asError: Error = e;
      void [code, message, asError];
      if (e.code === ErrorCode.CONVERSATION_NOT_FOUND || e.code === ErrorCode.NETWORK_DISCONNECTED) { /* handled */ }
    }
  }
  const err = new ChatError(6017, "bad");
  const codes: number[] = [
    ErrorCode.CONVERSATION_NOT_FOUND, ErrorCode.SDK_NOT_INITIALIZED, ErrorCode.SDK_NOT_LOGGED_IN,
    ErrorCode.INVALID_PARAMETERS, ErrorCode.DATABASE_OPERATE_FAILED, ErrorCode.FREQUENCY_LIMIT,
    ErrorCode.NETWORK_DISCONNECTED, ErrorCode.REQUEST_TIMEOUT, ErrorCode.SERVER_ERROR,
    ErrorCode.NO_PERMISSION, ErrorCode.USERSIG_EXPIRED, ErrorCode.USERSIG_INVALID, err.code,
  ];
  const exact: 2500 = ErrorCode.CONVERSATION_NOT_FOUND;
  const exact2: 6017 = ErrorCode.INVALID_PARAMETERS;
  void [codes, exact, exact2];

  // Wrong use must not type-check.
  // @ts-expect-error clearMessage is required
  await cm.deleteConversationList(["c2c_bob"]);
  // @ts-expect-error clearMessage is a boolean
  await cm.deleteConversationList(["c2c_bob"], "true");
  // @ts-expect-error the list is an array of strings
  await cm.deleteConversationList("c2c_bob", true);
  // @ts-expect-error the ID is a string
  await cm.deleteConversation(42);
  // @ts-expect-error deleteConversation resolves void, not results
  const notResults: ConversationOperationResult[] = await cm.deleteConversation("c2c_bob");
  void notResults;
  // @ts-expect-error unknown style
  await ChatSDK.create({ sdkAppID: 1, serverURL: "http://x", conversationIDStyle: "WEB" });
  // @ts-expect-error unknown storage
  await ChatSDK.create({ sdkAppID: 1, serverURL: "http://x", storage: "disk" });
  // @ts-expect-error serverURL is required
  await ChatSDK.create({ sdkAppID: 1 });
  // @ts-expect-error the constructor is private; use ChatSDK.create
  new ChatSDK();
  // @ts-expect-error getLoginUser may be null
  const notNull: string = sdk.getLoginUser();
  void notNull;
  // @ts-expect-error codes are readonly
  ErrorCode.CONVERSATION_NOT_FOUND = 1;
  // @ts-expect-error onConversationDeleted takes a string[]
  const badListener: ConversationListener = { onConversationDeleted(ids: number[]) { void ids; } };
  void badListener;
}
