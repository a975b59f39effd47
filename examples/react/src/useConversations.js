import { useCallback, useEffect, useMemo, useState } from "react";

// Reads the whole conversation list, newest first, 100 per page.
async function loadAll(manager) {
  const all = [];
  let nextSeq = 0;
  for (;;) {
    const page = await manager.getConversationList(nextSeq, 100);
    all.push(...page.conversationList);
    if (page.isFinished) return all;
    nextSeq = page.nextSeq;
  }
}

// The conversation list of the logged-in user, kept in sync with the SDK's listeners.
export function useConversations(sdk) {
  const manager = useMemo(() => sdk?.getConversationManager() ?? null, [sdk]);
  const [conversations, setConversations] = useState([]);
  const [lastDeleted, setLastDeleted] = useState([]);
  const [error, setError] = useState(null);

  useEffect(() => {
    if (!manager) return;
    let active = true;
    let latest = 0; // when re-reads overlap, only the newest one is applied
    const reload = () => {
      const ticket = ++latest;
      loadAll(manager).then(
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

  // Resolves when deleted (onConversationDeleted has fired by then); rejects with a ChatError.
  const deleteConversation = useCallback(
    async (conversationID) => manager.deleteConversation(conversationID),
    [manager],
  );

  return { conversations, lastDeleted, error, deleteConversation };
}
