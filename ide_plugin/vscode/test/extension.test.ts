import { beforeEach, describe, expect, it, vi } from "vitest";
import * as vscode from "./vscode";

const clients: FakeClient[] = [];

class FakeClient {
  requests: [unknown, unknown][] = [];
  handlers = new Map<string, (params: unknown) => unknown>();
  started = false;
  stopped = false;
  failure: Error | undefined;
  constructor(
    public id: string,
    public name: string,
    public serverOptions: Record<string, unknown>,
    public clientOptions: Record<string, any>,
  ) {
    clients.push(this);
  }
  async start() {
    if (this.failure) throw this.failure;
    this.started = true;
  }
  async stop() {
    this.stopped = true;
  }
  onDidChangeState() {
    return { dispose: () => undefined };
  }
  onRequest(method: string, handler: (params: unknown) => unknown) {
    this.handlers.set(method, handler);
  }
  onProgress() {
    return { dispose: () => undefined };
  }
  async sendRequest(type: unknown, params: unknown) {
    this.requests.push([type, params]);
    if (type === "assay/status") return { engine: "local engine, model http://vllm:8000/v1" };
    return { status: "applied" };
  }
  sendNotification = vi.fn(async () => undefined);
}

let failNext: Error | undefined;

vi.mock("vscode-languageclient/node", () => ({
  LanguageClient: vi.fn().mockImplementation((...args: ConstructorParameters<typeof FakeClient>) => {
    const client = new FakeClient(...args);
    client.failure = failNext;
    failNext = undefined;
    return client;
  }),
  TransportKind: { stdio: 0, ipc: 1 },
  State: { Stopped: 1, Running: 2, Starting: 3 },
  ExecuteCommandRequest: { type: "workspace/executeCommand" },
  WorkDoneProgress: { type: "$/progress" },
  WorkDoneProgressCancelNotification: { type: "window/workDoneProgress/cancel" },
}));

const { activate, deactivate } = await import("../src/extension");

function context() {
  return { subscriptions: [] as { dispose(): void }[] } as never;
}

describe("activation", () => {
  beforeEach(() => {
    vscode.reset();
    clients.length = 0;
  });

  it("starts assay lsp over stdio for Python files with the settings as options", async () => {
    vscode.state.config = {
      "assay.server.python": "/venvs/assay/bin/python",
      "assay.llm.baseUrl": "http://vllm:8000/v1",
    };
    vscode.workspace.workspaceFolders = [{ uri: vscode.Uri.file("/ws") }];
    await activate(context());
    const [client] = clients;
    expect(client.serverOptions).toEqual({
      command: "/venvs/assay/bin/python", args: ["-m", "agents.cli", "lsp"], transport: 0,
      options: { cwd: "/ws" },
    });
    const options = client.clientOptions;
    expect(options.documentSelector).toEqual([
      { scheme: "file", language: "python" },
      { scheme: "file", language: "javascript" },
      { scheme: "file", language: "javascriptreact" },
      { scheme: "file", language: "typescript" },
      { scheme: "file", language: "typescriptreact" },
    ]);
    expect(options.synchronize).toEqual({ configurationSection: "assay" });
    expect(options.initializationOptions.llm.baseUrl).toBe("http://vllm:8000/v1");
    expect(options.initializationOptions.tests.pickBehaviours).toBe(true);
    expect(options.outputChannel.name).toBe("assay");
    expect(client.started).toBe(true);
    expect([...client.handlers.keys()]).toEqual(["assay/pickBehaviours"]);
    const item = vscode.state.statusItems[0];
    expect(item.tooltip).toBe("assay: local engine, model http://vllm:8000/v1. Click for the menu.");
    expect([...vscode.state.commands.keys()]).toEqual([
      "assay.showOutput", "assay.restartServer", "assay.menu",
    ]);

    // Long commands go through the extension's cancellable progress; the others pass through.
    const next = vi.fn(async () => "passed");
    const run = options.middleware.executeCommand;
    await expect(run("assay.cancel", [], next)).resolves.toBe("passed");
    const answer = await run("assay.generateTests", [{ uri: "file:///ws/m.py", symbol: "f" }], next);
    expect(answer).toEqual({ status: "applied" });
    const [type, params] = client.requests.at(-1)!;
    expect(type).toBe("workspace/executeCommand");
    expect(params).toMatchObject({ command: "assay.generateTests", workDoneToken: expect.stringMatching(/^assay-vscode-/) });
    expect(vscode.state.progress).toHaveLength(1);

    // A change of how the server starts restarts it.
    vscode.state.configListeners[0]({ affectsConfiguration: (s: string) => s === "assay.server" });
    await vi.waitFor(() => expect(clients).toHaveLength(2));
    expect(client.stopped).toBe(true);
    await deactivate();
    expect(clients[1].stopped).toBe(true);
  });

  it("says how to fix a server that does not start", async () => {
    failNext = new Error("spawn assay ENOENT");
    await activate(context());
    expect(vscode.window.showErrorMessage).toHaveBeenCalledWith(
      "assay: could not start 'assay lsp' (spawn assay ENOENT). Install assay (pip install assay) " +
        "or set assay.server.path.",
      "Open settings",
      "Show log",
    );
    expect(vscode.state.statusItems[0].text).toBe("$(error) assay");
    expect(vscode.state.output.some((line) => line.includes("could not start assay: spawn assay ENOENT"))).toBe(true);
  });
});
