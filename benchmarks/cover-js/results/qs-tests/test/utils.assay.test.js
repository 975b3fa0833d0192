import { describe, expect, it } from "vitest";
const { arrayToObject, assign, combine, compact, decode, encode, isBuffer, isRegExp, maybeMap, merge } = require("../lib/utils");

describe("encode", () => {
  it("returns \"iso-8859-1\" for encode call 5", () => {
    expect(encode('iso-8859-1', 'iso-8859-1', 'iso-8859-1', 'iso-8859-1', 'iso-8859-1')).toEqual("iso-8859-1");
  });

  it("returns \"0\" for encode(0)", () => {
    expect(encode(0)).toEqual("0");
  });

  it("returns \"\" for encode('')", () => {
    expect(encode('')).toEqual("");
  });

  it("returns \"95\" for encode(0x5F)", () => {
    expect(encode(0x5F)).toEqual("95");
  });

  it("returns [] for encode([])", () => {
    expect(encode([])).toEqual([]);
  });

  it("returns \"%5Bobject%20Object%5D\" for encode({})", () => {
    expect(encode({})).toEqual("%5Bobject%20Object%5D");
  });

  it("returns \"0.5\" for encode(0.5)", () => {
    expect(encode(0.5)).toEqual("0.5");
  });

  it("returns \"a%0D%0A%09b\" for encode('a\\r\\n\\tb')", () => {
    expect(encode('a\r\n\tb')).toEqual("a%0D%0A%09b");
  });

  it("returns \"%C3%A9%E4%B8%AD%F0%9F%98%80\" for encode('é中😀')", () => {
    expect(encode('é中😀')).toEqual("%C3%A9%E4%B8%AD%F0%9F%98%80");
  });

  it("returns \"Symbol%28a%29\" for encode(Symbol('a'))", () => {
    expect(encode(Symbol('a'))).toEqual("Symbol%28a%29");
  });

  it("returns \"a\".repeat(1024) for encode('a'.repeat(1024))", () => {
    expect(encode('a'.repeat(1024))).toEqual("a".repeat(1024));
  });
});

describe("merge", () => {
  it("returns its result for merge({ a: { b: [1] } }, 'object', [])", () => {
    expect(merge({ a: { b: [1] } }, 'object', [])).toEqual({ a: { b: [1] }, object: true });
  });

  it("returns 0 for merge(0)", () => {
    expect(merge(0)).toEqual(0);
  });

  it("returns [1, 1] for merge(1, 1)", () => {
    expect(merge(1, 1)).toEqual([1, 1]);
  });

  it("returns [1, 1] for merge(1, [1])", () => {
    expect(merge(1, [1])).toEqual([1, 1]);
  });

  it("returns [1, 1] for merge([1], 1)", () => {
    expect(merge([1], 1)).toEqual([1, 1]);
  });

  it("returns [1, 1] for merge([1], [1])", () => {
    expect(merge([1], [1])).toEqual([1, 1]);
  });

  it("returns { \"0\": 1, a: 1 } for merge([1], { a: 1 })", () => {
    expect(merge([1], { a: 1 })).toEqual({ "0": 1, a: 1 });
  });

  it("returns { \"1\": true, a: 1 } for merge({ a: 1 }, 1)", () => {
    expect(merge({ a: 1 }, 1)).toEqual({ "1": true, a: 1 });
  });

  it("returns { a: [1, 1] } for merge({ a: 1 }, { a: 1 })", () => {
    expect(merge({ a: 1 }, { a: 1 })).toEqual({ a: [1, 1] });
  });

  it("returns [{ a: 1 }, 1] for merge([{ a: 1 }], [1])", () => {
    expect(merge([{ a: 1 }], [1])).toEqual([{ a: 1 }, 1]);
  });

  it("returns [{ a: [1, 1] }] for merge([{ a: 1 }], [{ a: 1 }])", () => {
    expect(merge([{ a: 1 }], [{ a: 1 }])).toEqual([{ a: [1, 1] }]);
  });
});

describe("compact", () => {
  it("returns \"o\" for compact('o')", () => {
    expect(compact('o')).toEqual("o");
  });

  it("returns 0 for compact(0)", () => {
    expect(compact(0)).toEqual(0);
  });

  it("returns 1 for compact(1)", () => {
    expect(compact(1)).toEqual(1);
  });

  it("returns [{ a: 1 }] for compact([{ a: 1 }])", () => {
    expect(compact([{ a: 1 }])).toEqual([{ a: 1 }]);
  });

  it("returns { a: { b: [1] } } for compact({ a: { b: [1] } })", () => {
    expect(compact({ a: { b: [1] } })).toEqual({ a: { b: [1] } });
  });
});

describe("decode", () => {
  it("returns \"iso-8859-1\" for decode('iso-8859-1', 'iso-8859-1', 'iso-8859-1')", () => {
    expect(decode('iso-8859-1', 'iso-8859-1', 'iso-8859-1')).toEqual("iso-8859-1");
  });

  it("returns \" \" for decode(' ')", () => {
    expect(decode(' ')).toEqual(" ");
  });

  it("returns \"\" for decode('')", () => {
    expect(decode('')).toEqual("");
  });

  it("returns \"a%b\" for decode('a%b')", () => {
    expect(decode('a%b')).toEqual("a%b");
  });

  it("returns \"a%b c\" for decode('a%b c')", () => {
    expect(decode('a%b c')).toEqual("a%b c");
  });
});

describe("arrayToObject", () => {
  it("returns {} for arrayToObject(1, 1)", () => {
    expect(arrayToObject(1, 1)).toEqual({});
  });

  it("returns {} for arrayToObject call 183", () => {
    expect(arrayToObject(-1, { plainObjects: true, allowPrototypes: true })).toEqual({});
  });

  it("returns {} for arrayToObject(0)", () => {
    expect(arrayToObject(0)).toEqual({});
  });

  it("returns { \"0\": \"a\" } for arrayToObject('a')", () => {
    expect(arrayToObject('a')).toEqual({ "0": "a" });
  });

  it("returns its result for arrayToObject('é中😀')", () => {
    expect(arrayToObject('é中😀')).toEqual({ "0": "é", "1": "中", "2": "\ud83d", "3": "\ude00" });
  });

  it("returns {} for arrayToObject((value) => value)", () => {
    expect(arrayToObject((value) => value)).toEqual({});
  });
});

describe("maybeMap", () => {
  it("returns \"a%b\" for maybeMap('a%b', (value) => value)", () => {
    expect(maybeMap('a%b', (value) => value)).toEqual("a%b");
  });

  it("returns [] for maybeMap([])", () => {
    expect(maybeMap([])).toEqual([]);
  });
});

describe("isBuffer", () => {
  it("returns false for isBuffer(0)", () => {
    expect(isBuffer(0)).toEqual(false);
  });

  it("returns false for isBuffer(1)", () => {
    expect(isBuffer(1)).toEqual(false);
  });

  it("returns false for isBuffer({})", () => {
    expect(isBuffer({})).toEqual(false);
  });

  it("returns false for isBuffer(null)", () => {
    expect(isBuffer(null)).toEqual(false);
  });
});

describe("assign", () => {
  it("returns 0 for assign(0, 0)", () => {
    expect(assign(0, 0)).toEqual(0);
  });

  it("returns 1 for assign(1, 1)", () => {
    expect(assign(1, 1)).toEqual(1);
  });

  it("throws for assign('a', 'a')", () => {
    expect(() => assign('a', 'a')).toThrow(new TypeError("Cannot assign to read only property '0' of string 'a'"));
  });

  it("throws for assign(1, [1])", () => {
    expect(() => assign(1, [1])).toThrow(new TypeError("Cannot create property '0' on number '1'"));
  });

  it("returns [\"a\"] for assign([1], 'a')", () => {
    expect(assign([1], 'a')).toEqual(["a"]);
  });
});

describe("isRegExp", () => {
  it("returns false for isRegExp(0)", () => {
    expect(isRegExp(0)).toEqual(false);
  });

  it("returns true for isRegExp(/a/)", () => {
    expect(isRegExp(/a/)).toEqual(true);
  });
});

describe("combine", () => {
  it("returns [0, undefined] for combine(0)", () => {
    expect(combine(0)).toEqual([0, undefined]);
  });

  it("returns [1, undefined] for combine(1)", () => {
    expect(combine(1)).toEqual([1, undefined]);
  });
});

describe("isBuffer", () => {
  it("should return true for a Buffer instance", () => {
    const buffer = new Buffer(10);
    expect(isBuffer(buffer)).toBe(true);
  });

  it("should return false for a non-Buffer object", () => {
    const nonBuffer = { not: 'a buffer' };
    expect(isBuffer(nonBuffer)).toBe(false);
  });

  it("should return false for null or undefined", () => {
    expect(isBuffer(null)).toBe(false);
    expect(isBuffer(undefined)).toBe(false);
  });

});
