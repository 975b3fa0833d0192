// The assay extension: starts `assay lsp` (see settings.ts for how), wires its long commands
// through a cancellable progress (run.ts), answers its behaviour picks (pick.ts) and keeps a
// status bar item (status.ts) and an output channel with the server's log.
import * as fs from "node:fs";
import * as os from "node:os";
import * as vscode from "vscode";
import {
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
  WorkDoneProgress,
  WorkDoneProgressCancelNotification,
} from "vscode-languageclient/node";
import { type PickParams, pickBehaviours } from "./pick";
import { CommandRunner, LONG_COMMANDS, type ProgressValue } from "./run";
import {
  initializationOptions,
  type Launch,
  needsRestart,
  readSettings,
  type Settings,
  serverLaunch,
} from "./settings";
import { Status } from "./status";

/** The languages assay writes tests for (JS/TS: packages with a package.json). */
export const LANGUAGES = ["python", "javascript", "javascriptreact", "typescript", "typescriptreact"];

let client: LanguageClient | undefined;

export function currentSettings(): Settings {
  const config = vscode.workspace.getConfiguration("assay");
  return readSettings(<T>(key: string, fallback: T) => config.get<T>(key, fallback) as T);
}

export function launchFor(settings: Settings): Launch {
  return serverLaunch(settings, {
    folders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    home: os.homedir(),
    platform: process.platform,
    exists: (file) => fs.existsSync(file),
  });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel("assay");
  const status = new Status(vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0));
  context.subscriptions.push(output, status);
  const log = (line: string) => output.appendLine(`[${new Date().toISOString()}] ${line}`);

  const runner = new CommandRunner(
    {
      executeCommand: (command, args, workDoneToken) => {
        if (!client) {
          return Promise.reject(new Error("the assay language server is not running"));
        }
        const params = { command, arguments: args, workDoneToken };
        return client.sendRequest(ExecuteCommandRequest.type, params);
      },
      cancelProgress: (token) => {
        void client?.sendNotification(WorkDoneProgressCancelNotification.type, { token });
      },
      onProgress: (token, handler) =>
        client
          ? client.onProgress(WorkDoneProgress.type, token, (v) => handler(v as ProgressValue))
          : { dispose: () => undefined },
    },
    status,
    log,
  );

  const start = async (): Promise<void> => {
    const settings = currentSettings();
    const launch = launchFor(settings);
    log(`starting ${launch.command} ${launch.args.join(" ")}`);
    const serverOptions: ServerOptions = {
      command: launch.command,
      args: launch.args,
      transport: TransportKind.stdio,
      options: { cwd: vscode.workspace.workspaceFolders?.[0]?.uri.fsPath },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: LANGUAGES.map((language) => ({ scheme: "file", language })),
      initializationOptions: initializationOptions(settings),
      synchronize: { configurationSection: "assay" },
      outputChannel: output,
      middleware: {
        executeCommand: (command, args, next) =>
          command in LONG_COMMANDS ? runner.run(command, args) : next(command, args),
      },
    };
    client = new LanguageClient("assay", "assay", serverOptions, clientOptions);
    client.onDidChangeState((event) => {
      if (event.newState === State.Stopped) {
        status.failed("the language server stopped");
      }
    });
    try {
      await client.start();
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      status.failed(`could not start ${launch.command}`);
      log(`could not start ${launch.command}: ${why}`);
      void vscode.window
        .showErrorMessage(
          `assay: could not start '${launch.command} lsp' (${why}). Install assay ` +
            "(pip install assay) or set assay.server.path.",
          "Open settings",
          "Show log",
        )
        .then((choice) => {
          if (choice === "Open settings") {
            void vscode.commands.executeCommand("workbench.action.openSettings", "assay.server");
          } else if (choice === "Show log") {
            output.show();
          }
        });
      return;
    }
    client.onRequest("assay/pickBehaviours", (params: PickParams) => pickBehaviours(params));
    const state = (await client.sendRequest("assay/status", {})) as { engine?: string };
    status.idle(state?.engine);
  };

  const restart = async (): Promise<void> => {
    const old = client;
    client = undefined;
    await old?.stop().catch(() => undefined);
    await start();
  };

  context.subscriptions.push(
    vscode.commands.registerCommand("assay.showOutput", () => output.show()),
    vscode.commands.registerCommand("assay.restartServer", restart),
    vscode.commands.registerCommand("assay.menu", () => menu()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (needsRestart((section) => event.affectsConfiguration(section))) {
        log("assay.server changed: restarting the language server");
        void restart();
      }
    }),
  );
  await start();
}

const MENU: { label: string; command: string; args?: unknown[] }[] = [
  { label: "$(beaker) Generate tests for selection/symbol", command: "assay.generateTests" },
  { label: "$(graph) Raise coverage of this file", command: "assay.raiseCoverage" },
  { label: "$(git-compare) Review my changes", command: "assay.reviewChanges" },
  { label: "$(clear-all) Clear the review's findings", command: "assay.clearReview" },
  { label: "$(stop-circle) Cancel running work", command: "assay.cancel" },
  { label: "$(output) Show the log", command: "assay.showOutput" },
  { label: "$(debug-restart) Restart the language server", command: "assay.restartServer" },
];

export async function menu(): Promise<void> {
  const choice = await vscode.window.showQuickPick(MENU, { title: "assay" });
  if (choice) {
    await vscode.commands.executeCommand(choice.command, ...(choice.args ?? []));
  }
}

export async function deactivate(): Promise<void> {
  const old = client;
  client = undefined;
  await old?.stop();
}
