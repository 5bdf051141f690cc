import { Hono } from "hono";

interface Env {
  GREETING: string;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/", (c) => c.text(`${c.env.GREETING} from Ledge!`));

app.get("/json", (c) =>
  c.json({
    greeting: c.env.GREETING,
    colo: (c.req.raw as Request & { cf?: { colo?: string } }).cf?.colo,
    time: new Date().toISOString(),
  }),
);

app.post("/echo", async (c) => c.text(await c.req.text()));

export default app;
