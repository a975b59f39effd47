// Vue 3 composables over the SDK (`chat-sdk-wasm/vue`). The SDK is held in a shallowRef: it is a
// wasm-bindgen object and must not be wrapped in a deep reactive proxy. Work starts in onMounted,
// so nothing touches the wasm during server rendering (Nuxt).
import { onMounted, onScopeDispose, ref, shallowRef, toValue, watch } from "vue";
import init, { ChatSDK, loadAllConversations } from "./index.js";

/**
 * Creates a ChatSDK and logs `userID` in: `{ sdk, error }` refs, `sdk` null until the login
 * succeeded. `options` is an object, a ref or a getter; when it changes (or the scope ends) the
 * SDK is destroyed. `userSig` is a string or a function `(userID) => Promise<string>`.
 */
export function useChatSDK(options) {
  const sdk = shallowRef(null);
  const error = shallowRef(null);
  let stop = null;
  onMounted(() => {
    stop = watch(
      () => {
        const o = toValue(options);
        return [o.sdkAppID, o.serverURL, o.userID, o.storage, o.conversationIDStyle];
      },
      ([sdkAppID, serverURL, userID, storage, conversationIDStyle], _old, onCleanup) => {
        sdk.value = null;
        error.value = null;
        if (!userID) return;
        let cancelled = false;
        let created = null;
        onCleanup(() => {
          cancelled = true;
          created?.destroy();
          sdk.value = null;
        });
        (async () => {
          await init();
          const userSig = toValue(options).userSig;
          const sig = typeof userSig === "function" ? await userSig(userID) : userSig;
          const chatOptions = { sdkAppID, serverURL };
          if (storage !== undefined) chatOptions.storage = storage;
          if (conversationIDStyle !== undefined) chatOptions.conversationIDStyle = conversationIDStyle;
          const instance = await ChatSDK.create(chatOptions);
          if (cancelled) return void instance.destroy();
          created = instance;
          await instance.login(userID, sig);
          if (!cancelled) sdk.value = instance;
        })().catch((e) => {
          created?.destroy();
          if (!cancelled) error.value = e;
        });
      },
      { immediate: true },
    );
  });
  onScopeDispose(() => stop?.());
  return { sdk, error };
}

/**
 * The conversation list of the logged-in user (all pages, newest first), kept in sync by a
 * ConversationListener. `sdk` is a ChatSDK, or a ref/getter of one (null while logging in).
 */
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
          const list = await loadAllConversations(m);
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

  // Resolves once deleted (onConversationDeleted has fired by then); rejects with a ChatError.
  const deleteConversation = async (conversationID) => manager.deleteConversation(conversationID);

  return { conversations, lastDeleted, error, deleteConversation };
}

/** The total unread count of the logged-in user (0 without an SDK), as a ref kept in sync. */
export function useTotalUnreadMessageCount(sdk) {
  const total = ref(0);
  watch(
    () => toValue(sdk),
    (current, _previous, onCleanup) => {
      total.value = 0;
      if (!current) return;
      const manager = current.getConversationManager();
      let active = true;
      let heard = false; // an event is newer than the initial read
      // Listener first, then the read: a change in between is not missed.
      const listener = {
        onTotalUnreadMessageCountChanged(n) {
          heard = true;
          if (active) total.value = n;
        },
      };
      manager.addConversationListener(listener);
      manager.getTotalUnreadMessageCount().then((n) => { if (active && !heard) total.value = n; }, () => {});
      onCleanup(() => {
        active = false;
        manager.removeConversationListener(listener);
      });
    },
    { immediate: true },
  );
  return total;
}
