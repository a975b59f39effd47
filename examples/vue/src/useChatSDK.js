import { onMounted, onUnmounted, shallowRef } from "vue";
import init, { ChatSDK } from "chat-sdk-wasm";

// Creates a ChatSDK and logs `userID` in. The userSig comes from the chat-server's dev route
// (server started with --dev); in production, get it from your own backend instead.
export async function connect(serverURL, userID) {
  const base = serverURL.replace(/\/+$/, "");
  const getJSON = async (path) => {
    const res = await fetch(base + path);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.json();
  };
  await init();
  const [{ sdkAppID }, { userSig }] = await Promise.all([
    getJSON("/v1/info"),
    getJSON(`/dev/usersig?userID=${encodeURIComponent(userID)}`),
  ]);
  const sdk = await ChatSDK.create({ sdkAppID, serverURL: base });
  try {
    await sdk.login(userID, userSig);
  } catch (e) {
    await sdk.destroy();
    throw e;
  }
  return sdk;
}

// The logged-in SDK (null until ready) and the login error, if any. Destroyed on unmount.
// shallowRef: the SDK is a wasm-bindgen object and must not be wrapped in a deep reactive proxy.
export function useChatSDK(serverURL, userID) {
  const sdk = shallowRef(null);
  const error = shallowRef(null);
  let unmounted = false;

  onMounted(async () => {
    if (!userID) {
      error.value = new Error("Add ?user=<userID> to the URL");
      return;
    }
    try {
      const created = await connect(serverURL, userID);
      if (unmounted) created.destroy();
      else sdk.value = created;
    } catch (e) {
      if (!unmounted) error.value = e;
    }
  });
  onUnmounted(() => {
    unmounted = true;
    sdk.value?.destroy();
    sdk.value = null;
  });

  return { sdk, error };
}
