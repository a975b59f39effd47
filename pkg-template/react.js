// React hooks over the SDK (`chat-sdk-wasm/react`). Everything runs inside effects, so nothing
// touches the wasm during server rendering (Next.js) and StrictMode's double effects are safe.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import init, { ChatSDK, loadAllConversations } from "./index.js";

/**
 * Creates a ChatSDK, logs `userID` in and returns `{ sdk, error }`: `sdk` is null until the login
 * succeeded; destroyed on unmount or when an option changes. `userSig` is a string or a function
 * `(userID) => Promise<string>` (ask your backend).
 */
export function useChatSDK(options) {
  const { sdkAppID, serverURL, userID, storage, conversationIDStyle } = options;
  const [state, setState] = useState({ sdk: null, error: null });
  const userSig = useRef(options.userSig);
  userSig.current = options.userSig;

  useEffect(() => {
    setState((s) => (s.sdk || s.error ? { sdk: null, error: null } : s));
    if (!userID) return undefined;
    let cancelled = false;
    let created = null;
    (async () => {
      await init();
      const sig = typeof userSig.current === "function" ? await userSig.current(userID) : userSig.current;
      const chatOptions = { sdkAppID, serverURL };
      if (storage !== undefined) chatOptions.storage = storage;
      if (conversationIDStyle !== undefined) chatOptions.conversationIDStyle = conversationIDStyle;
      const sdk = await ChatSDK.create(chatOptions);
      if (cancelled) return void sdk.destroy();
      created = sdk;
      await sdk.login(userID, sig);
      if (!cancelled) setState({ sdk, error: null });
    })().catch((error) => {
      created?.destroy();
      if (!cancelled) setState({ sdk: null, error });
    });
    return () => {
      cancelled = true;
      created?.destroy();
    };
  }, [sdkAppID, serverURL, userID, storage, conversationIDStyle]);

  return state;
}

/**
 * The conversation list of the logged-in user (all pages, newest first), kept in sync by a
 * ConversationListener: `{ conversations, lastDeleted, error, deleteConversation }`.
 */
export function useConversations(sdk) {
  const manager = useMemo(() => sdk?.getConversationManager() ?? null, [sdk]);
  const [conversations, setConversations] = useState([]);
  const [lastDeleted, setLastDeleted] = useState([]);
  const [error, setError] = useState(null);

  useEffect(() => {
    if (!manager) return undefined;
    let active = true;
    let latest = 0; // when re-reads overlap, only the newest one is applied
    const reload = () => {
      const ticket = ++latest;
      loadAllConversations(manager).then(
        (list) => { if (active && ticket === latest) setConversations(list); },
        (e) => { if (active) setError(e); },
      );
    };
    const listener = {
      onNewConversation: reload,
      onConversationChanged: reload,
      onConversationDeleted(ids) {
        setLastDeleted(ids);
        setConversations((list) => list.filter((c) => !ids.includes(c.conversationID)));
        reload();
      },
    };
    manager.addConversationListener(listener);
    reload();
    return () => {
      active = false;
      manager.removeConversationListener(listener);
      setConversations([]);
    };
  }, [manager]);

  // Resolves once deleted (onConversationDeleted has fired by then); rejects with a ChatError.
  const deleteConversation = useCallback(
    async (conversationID) => manager.deleteConversation(conversationID),
    [manager],
  );

  return { conversations, lastDeleted, error, deleteConversation };
}

/** The total unread count of the logged-in user (0 without an SDK), kept in sync by a listener. */
export function useTotalUnreadMessageCount(sdk) {
  const [total, setTotal] = useState(0);
  useEffect(() => {
    if (!sdk) return undefined;
    const manager = sdk.getConversationManager();
    let active = true;
    let heard = false; // an event is newer than the initial read
    // Listener first, then the read: a change in between is not missed.
    const listener = {
      onTotalUnreadMessageCountChanged(n) {
        heard = true;
        if (active) setTotal(n);
      },
    };
    manager.addConversationListener(listener);
    manager.getTotalUnreadMessageCount().then((n) => { if (active && !heard) setTotal(n); }, () => {});
    return () => {
      active = false;
      manager.removeConversationListener(listener);
      setTotal(0);
    };
  }, [sdk]);
  return total;
}
