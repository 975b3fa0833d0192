// The extension's settings: what the language server gets as initializationOptions, and how
// `assay lsp` is started from the configured Python environment.
import * as path from "node:path";

export interface Settings {
  server: { path: string; python: string; args: string[] };
  mode: "auto" | "local" | "service";
  llm: { baseUrl: string; model: string; apiKey: string };
  service: { url: string; token: string; repo: string };
  projectPython: string;
  review: { base: string };
  tests: { behaviours: number; pickBehaviours: boolean };
  settings: Record<string, unknown>;
}

/** Reads one setting below `assay.` (the key without it), with its default. */
export type Getter = <T>(key: string, fallback: T) => T;

export function readSettings(get: Getter): Settings {
  const text = (key: string): string => String(get<string>(key, "") ?? "").trim();
  const mode = text("mode");
  const args = get<unknown>("server.args", []);
  const extra = get<unknown>("settings", {});
  return {
    server: {
      path: text("server.path"),
      python: text("server.python"),
      args: Array.isArray(args) ? args.map(String) : [],
    },
    mode: mode === "local" || mode === "service" ? mode : "auto",
    llm: { baseUrl: text("llm.baseUrl"), model: text("llm.model"), apiKey: text("llm.apiKey") },
    service: { url: text("service.url"), token: text("service.token"), repo: text("service.repo") },
    projectPython: text("projectPython"),
    review: { base: text("review.base") || "main" },
    tests: {
      behaviours: Number(get<number>("tests.behaviours", 3)) || 3,
      pickBehaviours: get<boolean>("tests.pickBehaviours", true) !== false,
    },
    settings: extra && typeof extra === "object" && !Array.isArray(extra) ? { ...extra } : {},
  };
}

/** The server's initializationOptions: the settings less how the server itself is started. */
export function initializationOptions(s: Settings): Record<string, unknown> {
  const { server: _server, ...rest } = s;
  return rest;
}

export interface Launch {
  command: string;
  args: string[];
}

export interface Environment {
  folders: string[];
  home: string;
  platform: NodeJS.Platform;
  exists: (file: string) => boolean;
}

/**
 * How to start `assay lsp`: `assay.server.path`, else `python -m agents.cli lsp` with
 * `assay.server.python`, else the first `assay` found in the workspace's `.venv`, in
 * `~/.venvs/assay` (where the README installs it), else `assay` on the PATH.
 */
export function serverLaunch(s: Settings, env: Environment): Launch {
  const args = ["lsp", ...s.server.args];
  if (s.server.path) {
    return { command: s.server.path, args };
  }
  if (s.server.python) {
    return { command: s.server.python, args: ["-m", "agents.cli", ...args] };
  }
  const windows = env.platform === "win32";
  const bin = windows ? path.win32.join("Scripts", "assay.exe") : path.posix.join("bin", "assay");
  const join = windows ? path.win32.join : path.posix.join;
  const candidates = [
    ...env.folders.map((folder) => join(folder, ".venv", bin)),
    join(env.home, ".venvs", "assay", bin),
  ];
  const found = candidates.find((file) => env.exists(file));
  return { command: found ?? "assay", args };
}

/** Settings whose change needs the server restarted (the others reach it as they change). */
export function needsRestart(changed: (section: string) => boolean): boolean {
  return changed("assay.server");
}
