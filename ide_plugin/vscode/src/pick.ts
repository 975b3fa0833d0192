// The server's `assay/pickBehaviours` request: which behaviours of a symbol get a test.
import * as vscode from "vscode";

export interface PickParams {
  symbol: string;
  // call/expected: the example call (observed when origin is "explored") and its outcome.
  behaviours: { kind: string; description: string; call?: string; expected?: string; origin?: string }[];
}

/** The indexes picked (all are preselected), or null when the user backs out. */
export async function pickBehaviours(params: PickParams): Promise<number[] | null> {
  const items = params.behaviours.map((b, index) => ({
    label: b.description,
    description: b.kind,
    detail: b.call ? example(b.call, b.expected, b.origin) : undefined,
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

function example(call: string, expected?: string, origin?: string): string {
  const outcome = expected ? ` → ${expected}` : "";
  return `e.g. ${call}${outcome}${origin === "explored" ? " (observed)" : ""}`;
}
