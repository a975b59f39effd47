"use client";
// The SDK runs in the browser only: init() and everything after it happen inside useEffect, never
// at module top level (which Next.js would run while prerendering on the server).
import { useEffect, useState } from "react";
import * as sdk from "chat-sdk-wasm";
import { useChatSDK, useTotalUnreadMessageCount } from "chat-sdk-wasm/react";
import { smoke } from "../../common/smoke.js";

export default function Page() {
  const [result, setResult] = useState(null);
  useEffect(() => {
    smoke(sdk).then(
      (summary) => setResult({ status: "ok", text: JSON.stringify(summary) }),
      (e) => setResult({ status: "error", text: `${e?.code ?? ""} ${e?.message ?? e}` }),
    );
  }, []);
  return (
    <main>
      {result && <pre id="result" data-status={result.status}>{result.text}</pre>}
      <Hooks />
    </main>
  );
}

// The React hooks render on the server (SDK null) and connect in the browser.
function Hooks() {
  const [userSig, setUserSig] = useState(null);
  useEffect(() => {
    fetch("/dev/usersig?userID=hooks_user").then((r) => r.json()).then((j) => setUserSig(j.userSig));
  }, []);
  const { sdk: chat, error } = useChatSDK({
    sdkAppID: 1400000001,
    serverURL: typeof location === "undefined" ? "" : location.origin,
    userID: userSig ? "hooks_user" : null,
    userSig,
  });
  const unread = useTotalUnreadMessageCount(chat);
  return (
    <p id="hooks" data-state={chat ? "ready" : error ? "error" : "loading"}>
      {chat ? `logged in as ${chat.getLoginUser()}, unread ${unread}` : String(error ?? "")}
    </p>
  );
}
