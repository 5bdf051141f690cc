/**
 * Workers' `process`: what user code gets as the `process` global and as `node:process`. It is
 * unenv's Process (the one wrangler injects) with the app's own environment, Node's `nextTick` and
 * `hrtime`, and every member that would act on the host throwing. The host's `process` object is
 * never reachable from user code (see ../lockdown.ts).
 */
import realProcess from "node:process";
import { loadPolyfills } from "./modules.js";

/**
 * `process.env` as Cloudflare fills it (`nodejs_compat_populate_process_env`, on by default from
 * 2025-04-01): the app's string vars and secrets. JSON vars and other bindings are not strings and
 * stay out, as on Workers.
 */
export function processEnv(vars: Record<string, unknown>, populate: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  if (!populate) return env;
  for (const [k, v] of Object.entries(vars)) if (typeof v === "string") env[k] = v;
  return env;
}

/** Members of Node's `process` that act on the machine or the process as a whole. */
export const HOST_ONLY = [
  "abort",
  "binding",
  "_linkedBinding",
  "chdir",
  "dlopen",
  "exit",
  "reallyExit",
  "kill",
  "_kill",
  "loadEnvFile",
  "setuid",
  "setgid",
  "seteuid",
  "setegid",
  "setgroups",
  "initgroups",
  "umask",
  "_debugProcess",
  "_debugEnd",
  "_startProfilerIdleNotifier",
  "_stopProfilerIdleNotifier",
  "openStdin",
];

export function createWorkersProcess(opts: { env: Record<string, string>; builtin: (name: string) => unknown }): Record<string, unknown> {
  const { Process } = loadPolyfills();
  const p = new Process({ env: opts.env, hrtime: realProcess.hrtime, nextTick: realProcess.nextTick });
  for (const name of HOST_ONLY) {
    Object.defineProperty(p, name, {
      value: () => {
        throw new Error(`process.${name}() is not available in the Workers runtime.`);
      },
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  Object.defineProperty(p, "getBuiltinModule", {
    value: (id: string) => {
      try {
        return opts.builtin(String(id));
      } catch {
        return undefined;
      }
    },
    writable: true,
    configurable: true,
  });
  Object.defineProperty(p, "cwd", { value: () => "/bundle", writable: true, configurable: true });
  Object.assign(p, { platform: "linux", arch: "x64", pid: 1, ppid: 0, title: "workerd", argv: ["workerd"], argv0: "workerd", execPath: "/bundle" });
  return p;
}
