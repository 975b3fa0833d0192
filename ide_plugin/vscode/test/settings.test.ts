import { describe, expect, it } from "vitest";
import { initializationOptions, readSettings, serverLaunch, type Settings } from "../src/settings";

function settings(values: Record<string, unknown>): Settings {
  return readSettings(<T>(key: string, fallback: T) => (key in values ? values[key] : fallback) as T);
}

describe("settings", () => {
  it("maps the editor's settings onto the server's options", () => {
    const s = settings({
      "llm.baseUrl": " http://vllm:8000/v1 ", "llm.model": "coder", mode: "nonsense",
      "service.url": "https://assay.example.com", "service.token": "assay_1_x",
      "tests.behaviours": 2, "tests.pickBehaviours": false, settings: { cover_repeat: 2 },
      "server.path": "/opt/assay/bin/assay",
    });
    expect(initializationOptions(s)).toEqual({
      mode: "auto",
      llm: { baseUrl: "http://vllm:8000/v1", model: "coder", apiKey: "" },
      service: { url: "https://assay.example.com", token: "assay_1_x", repo: "" },
      projectPython: "",
      review: { base: "main" },
      tests: { behaviours: 2, pickBehaviours: false },
      settings: { cover_repeat: 2 },
    });
    expect(settings({ settings: [1, 2] }).settings).toEqual({});
  });

  it("starts assay lsp from the configured environment", () => {
    const env = (found: string[]) => ({
      folders: ["/ws"], home: "/home/me", platform: "linux" as NodeJS.Platform,
      exists: (file: string) => found.includes(file),
    });
    expect(serverLaunch(settings({ "server.path": "/x/assay" }), env([]))).toEqual({
      command: "/x/assay", args: ["lsp"],
    });
    const python = settings({ "server.python": "/venv/bin/python", "server.args": ["--log-level", "DEBUG"] });
    expect(serverLaunch(python, env([]))).toEqual({
      command: "/venv/bin/python", args: ["-m", "agents.cli", "lsp", "--log-level", "DEBUG"],
    });
    const plain = settings({});
    expect(serverLaunch(plain, env(["/ws/.venv/bin/assay", "/home/me/.venvs/assay/bin/assay"])))
      .toEqual({ command: "/ws/.venv/bin/assay", args: ["lsp"] });
    expect(serverLaunch(plain, env(["/home/me/.venvs/assay/bin/assay"])).command).toBe(
      "/home/me/.venvs/assay/bin/assay",
    );
    expect(serverLaunch(plain, env([])).command).toBe("assay");
    const windows = { ...env(["C:\\ws\\.venv\\Scripts\\assay.exe"]), folders: ["C:\\ws"],
                      platform: "win32" as NodeJS.Platform };
    expect(serverLaunch(plain, windows).command).toBe("C:\\ws\\.venv\\Scripts\\assay.exe");
  });
});
