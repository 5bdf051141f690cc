/** The one-node object directory passes the directory contract (directory.contract.ts). */
import { LocalDirectory } from "../../src/objects/index.js";
import { directoryContract } from "./directory.contract.js";

directoryContract("LocalDirectory", async (pools) => ({ directory: new LocalDirectory((app) => pools[app] ?? 1) }));
