import { beforeEach, describe, expect, it } from "vitest";
import { pickBehaviours } from "../src/pick";
import * as vscode from "./vscode";

const params = {
  symbol: "clamp",
  behaviours: [
    { kind: "happy", description: "returns x when it is inside the bounds" },
    { kind: "edge", description: "returns low when x equals low" },
    { kind: "edge", description: "returns 0 when `x < low`", call: "clamp(-1, 0, 5)", expected: "0", origin: "explored" },
  ],
};

describe("picking behaviours", () => {
  beforeEach(() => vscode.reset());

  it("offers every behaviour, preselected, and answers the indexes picked", async () => {
    vscode.window.showQuickPick.mockImplementation(async (items: { index: number }[]) => [items[1]]);
    await expect(pickBehaviours(params)).resolves.toEqual([1]);
    const [items, options] = vscode.window.showQuickPick.mock.calls[0];
    expect(items).toEqual([
      { label: "returns x when it is inside the bounds", description: "happy", picked: true, index: 0 },
      { label: "returns low when x equals low", description: "edge", picked: true, index: 1 },
      {
        label: "returns 0 when `x < low`",
        description: "edge",
        detail: "e.g. clamp(-1, 0, 5) → 0 (observed)",
        picked: true,
        index: 2,
      },
    ]);
    expect(options).toMatchObject({ canPickMany: true, title: "assay: which behaviours of clamp should get a test?" });
  });

  it("answers null when the user backs out or picks nothing", async () => {
    vscode.window.showQuickPick.mockResolvedValueOnce(undefined);
    await expect(pickBehaviours(params)).resolves.toBeNull();
    vscode.window.showQuickPick.mockResolvedValueOnce([]);
    await expect(pickBehaviours(params)).resolves.toBeNull();
  });
});
