import { beforeEach, describe, expect, it, vi } from "vitest";
import { argumentsFor, CommandRunner, type ProgressValue, type ServerLink } from "../src/run";
import { Status } from "../src/status";
import * as vscode from "./vscode";

function editor(uri: string, line: number, character: number) {
  return {
    document: { uri: { toString: () => uri } },
    selection: { active: { line, character } },
  } as never;
}

class FakeServer implements ServerLink {
  handlers = new Map<string, (value: ProgressValue) => void>();
  calls: { command: string; args: unknown[]; token: string }[] = [];
  cancelled: string[] = [];
  answer: (token: string) => Promise<unknown> = async () => ({ status: "applied" });

  executeCommand(command: string, args: unknown[], token: string): Promise<unknown> {
    this.calls.push({ command, args, token });
    return this.answer(token);
  }
  cancelProgress(token: string): void {
    this.cancelled.push(token);
  }
  onProgress(token: string, handler: (value: ProgressValue) => void) {
    this.handlers.set(token, handler);
    return { dispose: () => this.handlers.delete(token) };
  }
}

describe("long commands", () => {
  beforeEach(() => vscode.reset());

  it("take their file and cursor from the editor when a lens did not give them", () => {
    const active = editor("file:///p/calc/ops.py", 3, 7);
    expect(argumentsFor("assay.generateTests", [], active)).toEqual([
      { uri: "file:///p/calc/ops.py", position: { line: 3, character: 7 } },
    ]);
    expect(argumentsFor("assay.reviewChanges", [], active)).toEqual([{ uri: "file:///p/calc/ops.py" }]);
    const lens = [{ uri: "file:///p/calc/ops.py", symbol: "clamp" }];
    expect(argumentsFor("assay.generateTests", lens, active)).toBe(lens);
    expect(argumentsFor("assay.generateTests", [], undefined)).toEqual([]);
  });

  it("show the server's progress, save the file first, and cancel through the progress", async () => {
    const server = new FakeServer();
    const status = new Status(vscode.window.createStatusBarItem() as never, "local engine");
    const lines: string[] = [];
    const runner = new CommandRunner(server, status, (line) => lines.push(line));
    const save = vi.fn(async () => true);
    vscode.workspace.textDocuments = [
      { uri: { toString: () => "file:///p/calc/ops.py" } as never, isDirty: true, save },
    ];
    let release: (value: unknown) => void = () => undefined;
    server.answer = (token) => {
      const report = server.handlers.get(token)!;
      report({ kind: "begin", title: "assay: tests for clamp", percentage: 0 });
      report({ kind: "report", message: "running the project's tests under coverage", percentage: 5 });
      report({ kind: "report", message: "2 behaviours worth testing", percentage: 15 });
      return new Promise((resolve) => (release = resolve));
    };
    const running = runner.run("assay.generateTests", [{ uri: "file:///p/calc/ops.py", symbol: "clamp" }]);
    await vi.waitFor(() => expect(server.calls).toHaveLength(1));
    expect(save).toHaveBeenCalledOnce();
    const [{ token, args }] = server.calls;
    expect(token).toMatch(/^assay-vscode-/);
    expect(args).toEqual([{ uri: "file:///p/calc/ops.py", symbol: "clamp" }]);
    const [shown] = vscode.state.progress;
    expect(shown.options).toEqual({
      location: vscode.ProgressLocation.Notification, title: "assay: Generating tests", cancellable: true,
    });
    expect(shown.reports).toEqual([
      { message: undefined, increment: 0 },
      { message: "running the project's tests under coverage", increment: 5 },
      { message: "2 behaviours worth testing", increment: 10 },
    ]);
    expect(status.text).toBe("$(sync~spin) assay: 2 behaviours worth testing");

    shown.cancel.cancel(); // the notification's Cancel button
    expect(server.cancelled).toEqual([token]);
    release({ status: "cancelled", message: "assay: tests for clamp: cancelled" });
    await expect(running).resolves.toEqual({ status: "cancelled", message: "assay: tests for clamp: cancelled" });
    expect(status.text).toBe("$(beaker) assay");
    expect(server.handlers.size).toBe(0);
    expect(lines.at(-1)).toBe("assay: Generating tests: cancelled: assay: tests for clamp: cancelled");
  });

  it("leave the status idle again when the server fails", async () => {
    const server = new FakeServer();
    server.answer = async () => {
      throw new Error("the assay language server is not running");
    };
    const status = new Status(vscode.window.createStatusBarItem() as never);
    const runner = new CommandRunner(server, status, () => undefined);
    await expect(runner.run("assay.reviewChanges", [{ base: "main" }])).rejects.toThrow("not running");
    expect(status.text).toBe("$(beaker) assay");
  });
});

describe("the status bar", () => {
  beforeEach(() => vscode.reset());

  it("says what runs, counts parallel work and shows failures", () => {
    const item = vscode.window.createStatusBarItem() as unknown as vscode.StatusItem;
    const status = new Status(item as never);
    expect(item.command).toBe("assay.menu");
    expect(item.show).toHaveBeenCalled();
    status.idle("service https://assay.example.com, repository 'shop'");
    expect(item.tooltip).toBe("assay: service https://assay.example.com, repository 'shop'. Click for the menu.");
    status.started();
    status.started();
    status.busy("asking the model: returns x when it is inside the bounds (try 1)");
    expect(item.text).toBe("$(sync~spin) assay: asking the model: returns x when it is… (+1)");
    status.finished();
    expect(item.text).toContain("sync~spin");
    status.finished();
    expect(item.text).toBe("$(beaker) assay");
    status.failed("could not start assay");
    expect(item.text).toBe("$(error) assay");
    expect(item.backgroundColor).toEqual(new vscode.ThemeColor("statusBarItem.errorBackground"));
  });
});
