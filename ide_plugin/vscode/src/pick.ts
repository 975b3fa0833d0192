// The server's `assay/pickBehaviours` request: which behaviours of a symbol get a test.
import * as vscode from "vscode";

export interface PickParams {
  symbol: string;
  behaviours: { kind: string; description: string }[];
}

/** The indexes picked (all are preselected), or null when the user backs out. */
export async function pickBehaviours(params: PickParams): Promise<number[] | null> {
  const items = params.behaviours.map((b, index) => ({
    label: b.description,
    description: b.kind,
    picked: true,
    index,
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    canPickMany: true,
    title: `assay: which behaviours of ${params.symbol} should get a test?`,
    placeHolder: "Each picked behaviour gets a test that must pass every gate",
    ignoreFocusOut: true,
  });
  if (!chosen || chosen.length === 0) {
    return null;
  }
  return chosen.map((item) => item.index);
}
