import dedent from "../src/index";

describe("dedent", () => {
  it("returns \"\" for dedent``", () => {
    expect(dedent``).toEqual("");
  });

  it("returns \"hello\" for dedent`hello`", () => {
    expect(dedent`hello`).toEqual("hello");
  });

  it("returns \"a 1 c\" for dedent`a ${1} c`", () => {
    expect(dedent`a ${1} c`).toEqual("a 1 c");
  });

  it("returns \"alpha 1\\nbeta 2\" for dedent`\\n  alpha 1\\n  beta 2\\n`", () => {
    expect(dedent`
  alpha 1
  beta 2
`).toEqual("alpha 1\nbeta 2");
  });

  it("returns \"alpha 1\\n\\tbeta 2\" for dedent`\\n\\talpha 1\\n\\t\\tbeta 2\\n`", () => {
    expect(dedent`
\talpha 1
\t\tbeta 2
`).toEqual("alpha 1\n\tbeta 2");
  });

  it("returns \"items:\\n  first\\n  second\" for dedent`\\n  items:\\n    ${'first\\nsecond'}\\n`", () => {
    expect(dedent`
  items:
    ${'first\nsecond'}
`).toEqual("items:\n  first\n  second");
  });

  it("returns \"    alpha 1\\nbeta 2\" for dedent`\\n    alpha 1\\nbeta 2\\n`", () => {
    expect(dedent`
    alpha 1
beta 2
`).toEqual("    alpha 1\nbeta 2");
  });

  it("returns \"1  \" for dedent`\\r\\n${1}  `", () => {
    expect(dedent`\r
${1}  `).toEqual("1  ");
  });

  it("returns \"alpha 1 1\" for dedent`alpha 1 ${1}`", () => {
    expect(dedent`alpha 1 ${1}`).toEqual("alpha 1 1");
  });

  it("returns \"42\\n  \\nbeta 2\" for dedent`${42}\\n  \\nbeta 2\\n  `", () => {
    expect(dedent`${42}
  
beta 2
  `).toEqual("42\n  \nbeta 2");
  });

  it("returns \"\\t1\\nbeta 2\" for dedent`\\n\\t${1}\\nbeta 2`", () => {
    expect(dedent`
\t${1}
beta 2`).toEqual("\t1\nbeta 2");
  });

  it("returns \"alpha 1   one\\n    two\" for dedent`alpha 1 ${'  one\\n    two'}`", () => {
    expect(dedent`alpha 1 ${'  one\n    two'}`).toEqual("alpha 1   one\n    two");
  });

  it("returns \"alpha 1 1\\nbeta 2\" for dedent`\\n    alpha 1 ${1}\\n    beta 2\\n`", () => {
    expect(dedent`
    alpha 1 ${1}
    beta 2
`).toEqual("alpha 1 1\nbeta 2");
  });

  it("returns \"  one\\n    two alpha 1\" for dedent`${'  one\\n    two'} alpha 1\\n`", () => {
    expect(dedent`${'  one\n    two'} alpha 1
`).toEqual("  one\n    two alpha 1");
  });

  it("returns \"alpha 1\\n\\tword\" for dedent`\\n  alpha 1\\n  \\t${'word'}`", () => {
    expect(dedent`
  alpha 1
  \t${'word'}`).toEqual("alpha 1\n\tword");
  });

  it("returns \"\" for dedent('')", () => {
    expect(dedent('')).toEqual("");
  });

  it("returns \"42\\r\\nbeta 2\" for dedent`${42}\\r\\nbeta 2\\r\\n    `", () => {
    expect(dedent`${42}\r
beta 2\r
    `).toEqual("42\r\nbeta 2");
  });

  it("returns \"word alpha 1\" for dedent`\\n  ${'word'} alpha 1\\n`", () => {
    expect(dedent`
  ${'word'} alpha 1
`).toEqual("word alpha 1");
  });

  it("returns \"alpha 1: 42  \" for dedent`\\r\\n  alpha 1: ${42}  `", () => {
    expect(dedent`\r
  alpha 1: ${42}  `).toEqual("alpha 1: 42  ");
  });

  it("returns \"42\" for dedent`\\n\\t${42}`", () => {
    expect(dedent`
\t${42}`).toEqual("42");
  });

  it("returns \"first\\nsecond  \" for dedent`\\r\\n\\t${'first\\nsecond'}  \\r\\n`", () => {
    expect(dedent`\r
\t${'first\nsecond'}  \r
`).toEqual("first\nsecond  ");
  });

  it("returns \"42\\n\\tbeta 2  \" for dedent`\\n  ${42}\\n  \\tbeta 2  \\n`", () => {
    expect(dedent`
  ${42}
  \tbeta 2  
`).toEqual("42\n\tbeta 2  ");
  });

  it("returns \"      alpha 1 42\\nbeta 2\" for dedent`\\n      alpha 1 ${42}\\nbeta 2\\n`", () => {
    expect(dedent`
      alpha 1 ${42}
beta 2
`).toEqual("      alpha 1 42\nbeta 2");
  });

  it("returns \"alpha 1: word\" for dedent`alpha 1: ${'word'}`", () => {
    expect(dedent`alpha 1: ${'word'}`).toEqual("alpha 1: word");
  });
});
