// Long commands (tests, coverage, review) with a progress notification that can be cancelled.
//
// VS Code's language client shows server progress in the status bar, without a cancel button.
// So the extension sends these commands itself, with a `workDoneToken` of its own: the server
// reports on it, the notification and the status bar show the reports, and the notification's
// Cancel sends `window/workDoneProgress/cancel`, which stops the engine (the command then
// answers `{"status": "cancelled"}`).
import * as vscode from "vscode";
import type { Status } from "./status";

export const LONG_COMMANDS: Record<string, string> = {
  "assay.generateTests": "Generating tests",
  "assay.raiseCoverage": "Raising coverage",
  "assay.reviewChanges": "Reviewing your changes",
};
const ON_A_FILE = new Set(["assay.generateTests", "assay.raiseCoverage"]);

export type ProgressValue =
  | { kind: "begin"; title: string; message?: string; percentage?: number }
  | { kind: "report"; message?: string; percentage?: number }
  | { kind: "end"; message?: string };

/** What the runner needs of the language client. */
export interface ServerLink {
  executeCommand(command: string, args: unknown[], workDoneToken: string): Promise<unknown>;
  cancelProgress(workDoneToken: string): void;
  onProgress(workDoneToken: string, handler: (value: ProgressValue) => void): vscode.Disposable;
}

export interface CommandResult {
  status?: string;
  message?: string;
  [key: string]: unknown;
}

/**
 * The command's arguments: as given (a code lens gives `{uri, symbol}`), else the active
 * editor's document and cursor (`{uri, position}`) for the commands that work on a file.
 */
export function argumentsFor(
  command: string,
  args: unknown[],
  editor: vscode.TextEditor | undefined,
): unknown[] {
  if (args.length > 0 && args[0] !== undefined) {
    return args;
  }
  if (!editor) {
    return [];
  }
  const uri = editor.document.uri.toString();
  if (!ON_A_FILE.has(command)) {
    return [{ uri }];
  }
  const at = editor.selection.active;
  return [{ uri, position: { line: at.line, character: at.character } }];
}

let counter = 0;

export class CommandRunner {
  constructor(
    private readonly link: ServerLink,
    private readonly status: Status,
    private readonly log: (line: string) => void,
  ) {}

  async run(command: string, given: unknown[]): Promise<CommandResult> {
    const args = argumentsFor(command, given, vscode.window.activeTextEditor);
    await this.saveFirst(command, args);
    const token = `assay-vscode-${process.pid}-${++counter}`;
    const title = `assay: ${LONG_COMMANDS[command] ?? command}`;
    this.status.started();
    this.log(`${title} ${JSON.stringify(args)}`);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title, cancellable: true },
        async (progress, cancel) => {
          let reported = 0;
          const listening = this.link.onProgress(token, (value) => {
            if (value.kind === "end") {
              return;
            }
            const percentage = value.percentage ?? reported;
            const increment = Math.max(0, percentage - reported);
            reported = Math.max(reported, percentage);
            if (value.message) {
              this.status.busy(value.message);
            }
            progress.report({ message: value.message, increment });
          });
          const cancelling = cancel.onCancellationRequested(() => {
            this.log(`${title}: cancelling`);
            this.link.cancelProgress(token);
          });
          try {
            const result = (await this.link.executeCommand(command, args, token)) ?? {};
            const answer = result as CommandResult;
            this.log(`${title}: ${answer.status ?? "done"}${answer.message ? `: ${answer.message}` : ""}`);
            return answer;
          } finally {
            listening.dispose();
            cancelling.dispose();
          }
        },
      );
    } finally {
      this.status.finished();
    }
  }

  /** The engine reads the saved file: save the document a command works on. */
  private async saveFirst(command: string, args: unknown[]): Promise<void> {
    const first = args[0] as { uri?: unknown } | undefined;
    if (!ON_A_FILE.has(command) || typeof first?.uri !== "string") {
      return;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === first.uri);
    if (doc?.isDirty) {
      await doc.save();
    }
  }
}
