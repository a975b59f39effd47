// One HTTP request for the wasm, in plain JS: the wasm then imports one function instead of the
// Request/Headers/Response/AbortController bindings (and gloo-net's wrapper around them).
// Resolves [status, text]; rejects with "timeout" when no answer came within timeoutMs, otherwise
// with the error's text.
export function request(method, url, sig, body, timeoutMs) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; controller.abort(); }, timeoutMs);
  const headers = {};
  if (sig) headers.Authorization = `Bearer ${sig}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(url, { method, headers, body, signal: controller.signal })
    .then((response) => response.text().then((text) => [response.status, text]))
    .catch((e) => { throw timedOut ? "timeout" : String(e); })
    .finally(() => clearTimeout(timer));
}
