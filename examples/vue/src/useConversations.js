import { ref, shallowRef, toValue, watch } from "vue";

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
// `sdk` is a ChatSDK, or a ref/getter of one (null while logging in).
export function useConversations(sdk) {
  const conversations = ref([]);
  const lastDeleted = ref([]);
  const error = shallowRef(null);
  let manager = null;

  watch(
    () => toValue(sdk),
    (current, _previous, onCleanup) => {
      conversations.value = [];
      manager = current?.getConversationManager() ?? null;
      if (!manager) return;
      const m = manager;
      let active = true;
      let latest = 0; // when re-reads overlap, only the newest one is applied
      const reload = async () => {
        const ticket = ++latest;
        try {
          const list = await loadAll(m);
          if (active && ticket === latest) conversations.value = list;
        } catch (e) {
          if (active) error.value = e;
        }
      };
      const listener = {
        onNewConversation: reload,
        onConversationChanged: reload,
        onConversationDeleted(ids) {
          lastDeleted.value = ids;
          conversations.value = conversations.value.filter((c) => !ids.includes(c.conversationID));
          reload();
        },
      };
      m.addConversationListener(listener);
      reload();
      onCleanup(() => {
        active = false;
        m.removeConversationListener(listener);
      });
    },
    { immediate: true },
  );

  // Resolves when deleted (onConversationDeleted has fired by then); rejects with a ChatError.
  const deleteConversation = async (conversationID) => manager.deleteConversation(conversationID);

  return { conversations, lastDeleted, error, deleteConversation };
}
