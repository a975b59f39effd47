// The scenario every bundler app runs against a chat-server started with --dev: the SDK module
// (`sdk`, as the app imported it) must initialise, log in, send, delete with an event, and refuse
// a bad argument with a ChatError. Returns a plain summary the test compares.
export async function smoke(sdk, { serverURL, storage, initInput, waitForPush = true } = {}) {
  const { default: init, ChatSDK, ChatError } = sdk;
  // The chat-server: `?server=` when the app is served elsewhere (a dev server), else this origin.
  const base = serverURL ?? new URLSearchParams(location.search).get("server") ?? location.origin;
  const getJSON = async (path) => {
    const res = await fetch(base + path);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.json();
  };
  await init(initInput);
  const { sdkAppID } = await getJSON("/v1/info");
  const userID = `u${Math.random().toString(36).slice(2, 10)}`;
  const { userSig } = await getJSON(`/dev/usersig?userID=${userID}`);
  const options = { sdkAppID, serverURL: base };
  if (storage) options.storage = storage;
  const chat = await ChatSDK.create(options);
  const conversations = chat.getConversationManager();
  const deleted = [];
  conversations.addConversationListener({ onConversationDeleted: (ids) => deleted.push(...ids) });
  // The push connection syncs once it opens. This scenario is about loading the package, so it
  // starts after that sync instead of racing it (races are the core's tests' business).
  let connected = false;
  const pushSynced = new Promise((resolve) => {
    chat.addSDKListener({ onConnectSuccess: () => { connected = true; } });
    conversations.addConversationListener({
      onSyncServerFinish: () => connected && resolve(),
      onSyncServerFailed: () => connected && resolve(),
    });
  });
  await chat.login(userID, userSig);
  if (waitForPush) await Promise.race([pushSynced, new Promise((r) => setTimeout(r, 10_000))]);
  await chat.getMessageManager().sendTextMessage("c2c_bob", "hello from a bundler test");
  const before = (await conversations.getConversationList(0, 10)).conversationList.map((c) => c.conversationID);
  await conversations.deleteConversation("c2c_bob");
  const after = (await conversations.getConversationList(0, 10)).conversationList.map((c) => [c.conversationID, c.lastMessage?.seq, c.unreadCount]);
  let badArgument = null;
  try {
    await conversations.deleteConversation("not an id");
  } catch (e) {
    badArgument = { isChatError: e instanceof ChatError, code: e.code, codeName: codeName(sdk, e.code) };
  }
  await chat.destroy();
  return { before, deleted, after, badArgument };
}

// Read at call time: ErrorCode is filled in by init() (or usable earlier in later versions).
function codeName(sdk, code) {
  return Object.entries(sdk.ErrorCode ?? {}).find(([, value]) => value === code)?.[0] ?? null;
}

/** Shows the outcome in the page: `<pre id="result" data-status="ok|error">`. */
export function report(promise) {
  const pre = document.createElement("pre");
  pre.id = "result";
  document.body.append(pre);
  promise.then(
    (summary) => { pre.dataset.status = "ok"; pre.textContent = JSON.stringify(summary); },
    (e) => { pre.dataset.status = "error"; pre.textContent = `${e?.code ?? ""} ${e?.message ?? e}`; },
  );
}
