// The status bar item: what assay is doing, and a click away from the menu.
import * as vscode from "vscode";

export class Status implements vscode.Disposable {
  private running = 0;

  constructor(
    private readonly item: vscode.StatusBarItem,
    private engine = "starting",
  ) {
    item.command = "assay.menu";
    item.name = "assay";
    this.idle();
    item.show();
  }

  /** No work under way (the engine: where work runs, from the server). */
  idle(engine?: string): void {
    if (engine) {
      this.engine = engine;
    }
    this.item.text = "$(beaker) assay";
    this.item.tooltip = `assay: ${this.engine}. Click for the menu.`;
    this.item.backgroundColor = undefined;
  }

  started(): void {
    this.running += 1;
  }

  /** A progress message of running work. */
  busy(message: string): void {
    const more = this.running > 1 ? ` (+${this.running - 1})` : "";
    this.item.text = `$(sync~spin) assay: ${shorten(message, 40)}${more}`;
    this.item.tooltip = `assay: ${message}. Click to cancel or see the log.`;
  }

  finished(): void {
    this.running = Math.max(0, this.running - 1);
    if (this.running === 0) {
      this.idle();
    }
  }

  failed(message: string): void {
    this.item.text = "$(error) assay";
    this.item.tooltip = `assay: ${message}. Click for the log.`;
    this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
  }

  get text(): string {
    return this.item.text;
  }

  dispose(): void {
    this.item.dispose();
  }
}

function shorten(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1).trimEnd()}…` : text;
}
