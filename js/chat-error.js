// ChatError must be a real Error subclass (instanceof Error, a stack), which a Rust-exported
// class cannot be; the SDK creates its errors through this constructor, and the package entry
// re-exports this very class (so it works before the wasm is loaded).
export class ChatError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ChatError";
    this.code = code;
  }
}
