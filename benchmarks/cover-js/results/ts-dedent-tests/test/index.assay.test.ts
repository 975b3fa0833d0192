import { dedent } from "../src/index";

describe("dedent", () => {
  it("returns \"undefined\" for dedent('', '')", () => {
    expect(dedent('', '')).toEqual("undefined");
  });

  it("returns \"gundefined\" for dedent('g', '')", () => {
    expect(dedent('g', '')).toEqual("gundefined");
  });

  it("returns \"\\nundefined\" for dedent('', '\\n')", () => {
    expect(dedent('', '\n')).toEqual("\nundefined");
  });
});
