import { DurableObject } from "cloudflare:workers";

interface Env {
  COUNTER: DurableObjectNamespace<Counter>;
}

/**
 * A named counter. Each counter is one Durable Object with its own SQLite database: the current
 * value lives in a table, and every change is also appended to a history table.
 */
export class Counter extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS history (at INTEGER NOT NULL, delta INTEGER NOT NULL)`);
  }

  /** RPC: add `by` and return the new value. */
  increment(by = 1): number {
    const sql = this.ctx.storage.sql;
    sql.exec("INSERT INTO counter (id, value) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET value = value + excluded.value", by);
    sql.exec("INSERT INTO history (at, delta) VALUES (?, ?)", Date.now(), by);
    return this.value();
  }

  /** RPC: the current value. */
  value(): number {
    const row = this.ctx.storage.sql.exec<{ value: number }>("SELECT value FROM counter WHERE id = 1").toArray()[0];
    return row?.value ?? 0;
  }

  /** RPC: the last `n` changes, newest first. */
  history(n = 10): { at: number; delta: number }[] {
    return this.ctx.storage.sql.exec<{ at: number; delta: number }>("SELECT at, delta FROM history ORDER BY rowid DESC LIMIT ?", n).toArray();
  }

  async fetch(request: Request): Promise<Response> {
    return Response.json({ name: this.ctx.id.name, value: this.value() });
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, name = "default", action = "value"] = url.pathname.split("/");
    const stub = env.COUNTER.getByName(name);
    switch (action) {
      case "increment":
        return Response.json({ value: await stub.increment(Number(url.searchParams.get("by") ?? 1)) });
      case "value":
        return Response.json({ value: await stub.value() });
      case "history":
        return Response.json(await stub.history());
      case "info":
        return stub.fetch(request);
      default:
        return new Response("Not found. Try /NAME/increment, /NAME/value, /NAME/history or /NAME/info\n", { status: 404 });
    }
  },
} satisfies ExportedHandler<Env>;
