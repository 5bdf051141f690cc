/** Reading a line from the terminal without echoing it (for secret values). */
import { LedgeError } from "../shared/errors.js";

/**
 * Prints `question` on `out` and reads one line from the terminal `input` in raw mode, so typed
 * characters are not echoed; Backspace edits, Enter ends, Ctrl-C and Ctrl-D (on an empty line) cancel.
 * Example: `const value = await readHidden(process.stdin, process.stderr, "Value: ")`.
 */
export function readHidden(input: NodeJS.ReadStream, out: { write(s: string): unknown }, question: string): Promise<string> {
  // Raw mode first: a line typed (or pasted) the moment the question shows must not be echoed.
  const wasRaw = input.isRaw;
  input.setRawMode(true);
  out.write(question);
  input.setEncoding("utf8");
  input.resume();
  return new Promise((resolve, reject) => {
    let chars: string[] = [];
    const finish = (err: Error | null) => {
      input.off("data", onData);
      input.setRawMode(wasRaw);
      input.pause();
      out.write("\n");
      if (err) reject(err);
      else resolve(chars.join(""));
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return finish(null);
        if (ch === "\u0003" || (ch === "\u0004" && chars.length === 0)) return finish(new LedgeError("LEDGE_CLI", "cancelled; nothing was stored"));
        if (ch === "\u007f" || ch === "\b") chars = chars.slice(0, -1);
        else if (ch >= " ") chars.push(ch);
      }
    };
    input.on("data", onData);
  });
}
