import { useEffect, useState } from "react";
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
export function useChatSDK(serverURL, userID) {
  const [sdk, setSdk] = useState(null);
  const [error, setError] = useState(null);

  useEffect(() => {
    if (!userID) {
      setError(new Error("Add ?user=<userID> to the URL"));
      return;
    }
    let cancelled = false;
    let created = null;
    connect(serverURL, userID).then(
      (s) => {
        created = s;
        if (cancelled) s.destroy();
        else setSdk(s);
      },
      (e) => { if (!cancelled) setError(e); },
    );
    return () => {
      cancelled = true;
      created?.destroy();
      setSdk(null);
    };
  }, [serverURL, userID]);

  return { sdk, error };
}
