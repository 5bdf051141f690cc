// The few Workers types this example uses (a real project would use @cloudflare/workers-types).
declare module "*.html" {
  const text: string;
  export default text;
}

interface WorkersWebSocket extends EventTarget {
  accept(): void;
  send(message: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  addEventListener(type: "close", listener: (event: CloseEvent) => void): void;
}

declare class WebSocketPair {
  0: WorkersWebSocket;
  1: WorkersWebSocket;
}

interface ResponseInit {
  webSocket?: WorkersWebSocket | null;
}
