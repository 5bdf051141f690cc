/**
 * Module rules: which imported files become Text, Data or CompiledWasm modules, as wrangler decides.
 */
import { formatPath, type FieldPath, type Problems } from "./internal.js";
import type { RawRule } from "./schema.js";
import type { ModuleRuleConfig } from "./types.js";

/** Wrangler's built-in rules, appended after the user's (workers-sdk `DEFAULT_MODULE_RULES`). */
export const DEFAULT_MODULE_RULES: readonly ModuleRuleConfig[] = [
  { type: "Text", globs: ["**/*.txt", "**/*.html", "**/*.sql"], fallthrough: false },
  { type: "Data", globs: ["**/*.bin"], fallthrough: false },
  { type: "CompiledWasm", globs: ["**/*.wasm", "**/*.wasm?module"], fallthrough: false },
];

type RuleType = ModuleRuleConfig["type"];
const SUPPORTED_TYPES = new Set<string>(["ESModule", "CommonJS", "Text", "Data", "CompiledWasm"]);

/**
 * Returns the rules in the order they are tried: the user's first, then the defaults. A rule without
 * `fallthrough = true` is the last of its type: later rules of the same type (including a default)
 * are dropped. Wrangler warns when that happens implicitly and stays quiet when the user wrote
 * `fallthrough = false`; Ledge does the same.
 */
export function resolveModuleRules(userRules: readonly RawRule[], at: FieldPath, problems: Problems): ModuleRuleConfig[] {
  const candidates: { rule: ModuleRuleConfig; explicit: boolean; index?: number }[] = [];
  userRules.forEach((rule, index) => {
    if (!SUPPORTED_TYPES.has(rule.type)) {
      problems.error(
        formatPath([...at, index, "type"]),
        `module type "${rule.type}" is not supported by Ledge (Python Workers are not supported); use one of ESModule, CommonJS, Text, Data, CompiledWasm.`,
      );
      return;
    }
    candidates.push({
      rule: { type: rule.type as RuleType, globs: [...rule.globs], fallthrough: rule.fallthrough ?? false },
      explicit: rule.fallthrough === false,
      index,
    });
  });
  for (const rule of DEFAULT_MODULE_RULES) candidates.push({ rule: { ...rule, globs: [...rule.globs] }, explicit: false });

  const closedBy = new Map<RuleType, (typeof candidates)[number]>();
  const kept: ModuleRuleConfig[] = [];
  for (const candidate of candidates) {
    const closer = closedBy.get(candidate.rule.type);
    if (closer !== undefined) {
      if (!closer.explicit) {
        const where = closer.index === undefined ? "a default rule" : formatPath([...at, closer.index]);
        const dropped = candidate.index === undefined ? `the default rule for ${candidate.rule.globs.join(", ")}` : formatPath([...at, candidate.index]);
        problems.warn(
          formatPath(at),
          `${dropped} is ignored because ${where} of type ${candidate.rule.type} comes first without fallthrough = true. ` +
            `Add fallthrough = true to ${where} to keep both, or fallthrough = false to silence this warning.`,
        );
      }
      continue;
    }
    kept.push(candidate.rule);
    if (!candidate.rule.fallthrough) closedBy.set(candidate.rule.type, candidate);
  }
  return kept;
}
