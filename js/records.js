// The bulk read at login, packed for the wasm: 10,000 stored conversations cross the boundary as
// one string (every string field, concatenated, with UTF-16 end offsets) and one array of numbers,
// instead of dozens of calls per record (field-by-field conversion made the cold start 3× slower).
const STRINGS = ["conversationID", "userID", "groupID", "showName"];
const MESSAGE_STRINGS = ["msgID", "conversationID", "sender", "text"];
const NUMBERS_PER_RECORD = 6;

const isCount = (n) => Number.isSafeInteger(n) && n >= 0;

/** [text, ends: Uint32Array (8 per record), numbers: Float64Array (6 per record)]. Numbers per
 *  record: type, unreadCount, orderKey, flags (1 userID, 2 groupID, 4 lastMessage, 8 malformed),
 *  lastMessage.timestamp, lastMessage.seq. */
export function packConversations(list) {
  const parts = [];
  const ends = new Uint32Array(list.length * 8);
  const numbers = new Float64Array(list.length * NUMBERS_PER_RECORD);
  let length = 0, e = 0, n = 0;
  const add = (v) => {
    if (typeof v === "string") { parts.push(v); length += v.length; }
    ends[e++] = length;
  };
  for (const c of list) {
    const m = c.lastMessage;
    for (const k of STRINGS) add(c[k]);
    for (const k of MESSAGE_STRINGS) add(m ? m[k] : undefined);
    const ok = typeof c.conversationID === "string" && typeof c.showName === "string"
      && (c.type === 1 || c.type === 2) && isCount(c.unreadCount) && isCount(c.orderKey)
      && (c.userID === undefined || typeof c.userID === "string")
      && (c.groupID === undefined || typeof c.groupID === "string")
      && (!m || (MESSAGE_STRINGS.every((k) => typeof m[k] === "string") && isCount(m.timestamp) && isCount(m.seq)));
    numbers[n++] = c.type;
    numbers[n++] = c.unreadCount;
    numbers[n++] = c.orderKey;
    numbers[n++] = (typeof c.userID === "string" ? 1 : 0) | (typeof c.groupID === "string" ? 2 : 0)
      | (m ? 4 : 0) | (ok ? 0 : 8);
    numbers[n++] = m ? m.timestamp : 0;
    numbers[n++] = m ? m.seq : 0;
  }
  return [parts.join(""), ends, numbers];
}
