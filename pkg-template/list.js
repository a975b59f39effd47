// Shared by the React hooks and the Vue composables.

/** Reads the whole conversation list, newest first, 100 per page. */
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
