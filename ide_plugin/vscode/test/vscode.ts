// A stand-in for the `vscode` module (only VS Code has the real one), aliased in
// vitest.config.ts. It records what the extension does; tests script what the user does.
import { vi } from "vitest";

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}
export enum ProgressLocation {
  SourceControl = 1,
  Window = 10,
  Notification = 15,
}

export class ThemeColor {
  constructor(public readonly id: string) {}
}

export class Uri {
  private constructor(
    public readonly scheme: string,
    public readonly fsPath: string,
  ) {}
  static file(path: string): Uri {
    return new Uri("file", path);
  }
  toString(): string {
    return `${this.scheme}://${this.fsPath}`;
  }
}

export interface Disposable {
  dispose(): void;
}

type Listener<T> = (value: T) => void;

export class CancellationTokenSource {
  private listeners: Listener<void>[] = [];
  isCancellationRequested = false;
  token = {
    isCancellationRequested: false,
    onCancellationRequested: (listener: Listener<void>): Disposable => {
      this.listeners.push(listener);
      return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
    },
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    for (const listener of this.listeners) listener();
  }
}

export interface StatusItem {
  text: string;
  tooltip: string | undefined;
  command: string | undefined;
  name: string | undefined;
  backgroundColor: ThemeColor | undefined;
  show: ReturnType<typeof vi.fn>;
  hide: ReturnType<typeof vi.fn>;
  dispose: ReturnType<typeof vi.fn>;
}

export function statusItem(): StatusItem {
  return {
    text: "", tooltip: undefined, command: undefined, name: undefined,
    backgroundColor: undefined, show: vi.fn(), hide: vi.fn(), dispose: vi.fn(),
  };
}

/** What a test sees and steers: reset before each test with `reset()`. */
export const state = {
  config: {} as Record<string, unknown>,
  progress: [] as { options: unknown; reports: unknown[]; cancel: CancellationTokenSource }[],
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  output: [] as string[],
  statusItems: [] as StatusItem[],
  configListeners: [] as Listener<{ affectsConfiguration(s: string): boolean }>[],
};

export const window = {
  activeTextEditor: undefined as unknown,
  createOutputChannel: vi.fn((name: string) => ({
    name,
    appendLine: (line: string) => state.output.push(line),
    append: (text: string) => state.output.push(text),
    show: vi.fn(),
    dispose: vi.fn(),
  })),
  createStatusBarItem: vi.fn(() => {
    const item = statusItem();
    state.statusItems.push(item);
    return item;
  }),
  withProgress: vi.fn(
    async <R>(
      options: unknown,
      task: (p: { report(v: unknown): void }, token: unknown) => Promise<R>,
    ): Promise<R> => {
      const cancel = new CancellationTokenSource();
      const entry = { options, reports: [] as unknown[], cancel };
      state.progress.push(entry);
      return task({ report: (v) => entry.reports.push(v) }, cancel.token);
    },
  ),
  showQuickPick: vi.fn(),
  showErrorMessage: vi.fn(async () => undefined),
  showInformationMessage: vi.fn(async () => undefined),
};

export const workspace = {
  workspaceFolders: undefined as { uri: Uri }[] | undefined,
  textDocuments: [] as { uri: Uri; isDirty: boolean; save: ReturnType<typeof vi.fn> }[],
  getConfiguration: vi.fn((section: string) => ({
    get: <T>(key: string, fallback: T): T =>
      (`${section}.${key}` in state.config ? state.config[`${section}.${key}`] : fallback) as T,
  })),
  onDidChangeConfiguration: vi.fn((listener) => {
    state.configListeners.push(listener);
    return { dispose: vi.fn() };
  }),
};

export const commands = {
  registerCommand: vi.fn((id: string, fn: (...args: unknown[]) => unknown) => {
    state.commands.set(id, fn);
    return { dispose: vi.fn() };
  }),
  executeCommand: vi.fn(async () => undefined),
};

export function reset(): void {
  state.config = {};
  state.progress = [];
  state.commands.clear();
  state.output = [];
  state.statusItems = [];
  state.configListeners = [];
  window.activeTextEditor = undefined;
  workspace.workspaceFolders = undefined;
  workspace.textDocuments = [];
  vi.clearAllMocks();
}
