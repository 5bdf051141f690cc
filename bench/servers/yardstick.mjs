/**
 * The machine's yardstick: the plainest `node:http` server returning what the hello-world Worker
 * returns ("Hello World!", text/plain). Usage: node bench/servers/yardstick.mjs PORT
 */
import http from "node:http";

const port = Number(process.argv[2]);
const body = Buffer.from("Hello World!");
const server = http.createServer({ keepAliveTimeout: 65_000 }, (_req, res) => {
  res.writeHead(200, { "content-type": "text/plain;charset=UTF-8", "content-length": body.length });
  res.end(body);
});
server.listen(port, "127.0.0.1", () => process.stdout.write(`Ready on http://127.0.0.1:${port}\n`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)).closeAllConnections());
