import { useState } from "react";
import { useChatSDK, useConversations, useTotalUnreadMessageCount } from "chat-sdk-wasm/react";

const params = new URLSearchParams(location.search);
const userID = params.get("user");
const serverURL = (params.get("server") ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
const sdkAppID = Number(params.get("app") ?? 1400000001);

// The userSig comes from the chat-server's dev route (server started with --dev); in production,
// get it from your own backend instead.
async function devUserSig(id) {
  const res = await fetch(`${serverURL}/dev/usersig?userID=${encodeURIComponent(id)}`);
  if (!res.ok) throw new Error(`GET /dev/usersig: HTTP ${res.status}`);
  return (await res.json()).userSig;
}

export default function App() {
  const { sdk, error: loginError } = useChatSDK({ sdkAppID, serverURL, userID, userSig: devUserSig });
  const { conversations, lastDeleted, error: listError, deleteConversation } = useConversations(sdk);
  const totalUnread = useTotalUnreadMessageCount(sdk);
  const [deleteError, setDeleteError] = useState(null);
  const error = (userID ? null : new Error("Add ?user=<userID> to the URL")) ?? loginError ?? listError ?? deleteError;

  const remove = (id) => {
    setDeleteError(null);
    deleteConversation(id).catch(setDeleteError);
  };

  return (
    <main data-state={sdk ? "ready" : error ? "error" : "loading"}>
      <h1>Conversations of {userID ?? "?"}</h1>
      {error && (
        <p className="error" data-testid="error">
          {error.code ? `${error.code}: ` : ""}{error.message}
        </p>
      )}
      {!sdk && !error && <p>Logging in…</p>}
      <p>Unread: <span data-testid="total-unread">{totalUnread}</span></p>
      <ul data-testid="conversation-list">
        {conversations.map((c) => (
          <li key={c.conversationID} data-testid="conversation-row" data-conversation-id={c.conversationID}>
            <span className="name">{c.showName}</span>
            {c.unreadCount > 0 && <span className="badge">{c.unreadCount}</span>}
            <span className="last">{c.lastMessage?.text}</span>
            <button data-testid="conversation-delete" onClick={() => remove(c.conversationID)}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      {sdk && conversations.length === 0 && <p>No conversations.</p>}
      <p data-testid="last-deleted">
        Last onConversationDeleted: {lastDeleted.length ? lastDeleted.join(", ") : "none"}
      </p>
    </main>
  );
}
