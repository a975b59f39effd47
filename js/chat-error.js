// ChatError must be a real Error subclass (instanceof Error, a stack), which a Rust-exported
// class cannot be; the SDK creates its errors through this constructor.
export class ChatError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "ChatError";
    this.code = code;
  }
}

export function chatErrorClass() {
  return ChatError;
}
