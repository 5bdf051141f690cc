/**
 * One line per request: method, path, status, duration, request id. Lines are buffered and
 * written at most every 50 ms (or at 64 KiB), so logging costs a few syscalls per second rather
 * than one per request under load.
 */
export class AccessLog {
  #buf: string[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly enabled = true,
  ) {}

  line(method: string, path: string, status: number, ms: number, reqId: string): void {
    if (!this.enabled) return;
    const l = `${method} ${path} ${status} ${ms.toFixed(1)}ms [${reqId}]\n`;
    this.#buf.push(l);
    this.#bytes += l.length;
    if (this.#bytes > 65536) this.flush();
    else if (!this.#timer) {
      this.#timer = setTimeout(() => this.flush(), 50);
      this.#timer.unref();
    }
  }

  flush(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.#buf.length === 0) return;
    const text = this.#buf.join("");
    this.#buf = [];
    this.#bytes = 0;
    this.out.write(text);
  }
}
