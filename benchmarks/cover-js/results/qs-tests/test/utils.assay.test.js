import { describe, expect, it } from "vitest";
import { arrayToObject, assign, combine, compact, decode, encode, isBuffer, isRegExp, maybeMap, merge } from "../lib/utils.js";

describe("encode", () => {
  it("returns \"0\" for encode(0, 0, 0, 0, 0)", () => {
    expect(encode(0, 0, 0, 0, 0)).toEqual("0");
  });

  it("returns \"1\" for encode(1, 1, 1, 1, 1)", () => {
    expect(encode(1, 1, 1, 1, 1)).toEqual("1");
  });

  it("returns \"iso-8859-1\" for encode call 5", () => {
    expect(encode('iso-8859-1', 'iso-8859-1', 'iso-8859-1', 'iso-8859-1', 'iso-8859-1')).toEqual("iso-8859-1");
  });

  it("returns [] for encode([], 0x7E, 0x800, 'iso-8859-1', [1, 2, 3])", () => {
    expect(encode([], 0x7E, 0x800, 'iso-8859-1', [1, 2, 3])).toEqual([]);
  });

  it("returns \"%5Bobject%20Object%5D\" for encode({}, 3, 3, 0, -1)", () => {
    expect(encode({}, 3, 3, 0, -1)).toEqual("%5Bobject%20Object%5D");
  });
});

describe("merge", () => {
  it("returns 0 for merge(0, 0, 0)", () => {
    expect(merge(0, 0, 0)).toEqual(0);
  });

  it("returns [1, 1] for merge(1, 1, 1)", () => {
    expect(merge(1, 1, 1)).toEqual([1, 1]);
  });

  it("returns [-1] for merge([], -1, {})", () => {
    expect(merge([], -1, {})).toEqual([-1]);
  });

  it("returns its result for merge call 69", () => {
    expect(merge({ plainObjects: false }, { allowPrototypes: true }, -1)).toEqual({ plainObjects: false, allowPrototypes: true });
  });

  it("returns [undefined, 1, 2, 3] for merge(undefined, [1, 2, 3], true)", () => {
    expect(merge(undefined, [1, 2, 3], true)).toEqual([undefined, 1, 2, 3]);
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

  it("returns \"a\" for compact('a')", () => {
    expect(compact('a')).toEqual("a");
  });
});

describe("decode", () => {
  it("returns \" \" for decode(' ', ' ', ' ')", () => {
    expect(decode(' ', ' ', ' ')).toEqual(" ");
  });

  it("returns \"iso-8859-1\" for decode('iso-8859-1', 'iso-8859-1', 'iso-8859-1')", () => {
    expect(decode('iso-8859-1', 'iso-8859-1', 'iso-8859-1')).toEqual("iso-8859-1");
  });

  it("returns \"a%b\" for decode('a%b', null, undefined)", () => {
    expect(decode('a%b', null, undefined)).toEqual("a%b");
  });

  it("returns \"\\n  first\\n    second\\n\" for decode call 139", () => {
    expect(decode('\n  first\n    second\n', { plainObjects: false }, 'iso-8859-1')).toEqual("\n  first\n    second\n");
  });

  it("returns \"  padded  \" for decode('  padded  ', 0, 'a b')", () => {
    expect(decode('  padded  ', 0, 'a b')).toEqual("  padded  ");
  });
});

describe("arrayToObject", () => {
  it("returns {} for arrayToObject(0, 0)", () => {
    expect(arrayToObject(0, 0)).toEqual({});
  });

  it("returns {} for arrayToObject(1, 1)", () => {
    expect(arrayToObject(1, 1)).toEqual({});
  });

  it("returns its result for arrayToObject('undefined', 'undefined')", () => {
    expect(arrayToObject('undefined', 'undefined')).toEqual({ "0": "u", "1": "n", "2": "d", "3": "e", "4": "f", "5": "i", "6": "n", "7": "e", "8": "d" });
  });

  it("returns its result for arrayToObject('a%b c', 'hello world')", () => {
    expect(arrayToObject('a%b c', 'hello world')).toEqual({ "0": "a", "1": "%", "2": "b", "3": " ", "4": "c" });
  });

  it("returns {} for arrayToObject({}, { plainObjects: true })", () => {
    expect(arrayToObject({}, { plainObjects: true })).toEqual({});
  });
});

describe("maybeMap", () => {
  it("returns [] for maybeMap([], 2)", () => {
    expect(maybeMap([], 2)).toEqual([]);
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
});

describe("assign", () => {
  it("returns 0 for assign(0, 0)", () => {
    expect(assign(0, 0)).toEqual(0);
  });

  it("returns 1 for assign(1, 1)", () => {
    expect(assign(1, 1)).toEqual(1);
  });

  it("throws for assign('a\\r\\n\\tb', 'a%b')", () => {
    expect(() => assign('a\r\n\tb', 'a%b')).toThrow("Cannot assign to read only property '0' of string 'a\r\n\tb'");
  });

  it("throws for assign(0, { plainObjects: false })", () => {
    expect(() => assign(0, { plainObjects: false })).toThrow("Cannot create property 'plainObjects' on number '0'");
  });
});

describe("isRegExp", () => {
  it("returns false for isRegExp(0)", () => {
    expect(isRegExp(0)).toEqual(false);
  });
});

describe("combine", () => {
  it("returns [0, 0] for combine(0, 0)", () => {
    expect(combine(0, 0)).toEqual([0, 0]);
  });

  it("returns [1, 1] for combine(1, 1)", () => {
    expect(combine(1, 1)).toEqual([1, 1]);
  });
});

describe("merge", () => {
  it(    "should merge objects correctly", () => {
        const target = { a: 1, b: 2 };
        const source = { c: 3, d: 4 };
        const options = { plainObjects: true };

        expect(merge(target, source, options)).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    });
});

describe("merge", () => {
  it(    "should merge objects", () => {
      const target = { a: 1, b: 2 };
      const source = { c: 3, d: 4 };
      expect(merge(target, source)).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    });
});

describe("compact", () => {
  it('should return the same object if it is not an object', () => {
    const result = compact(42);
    expect(result).toEqual(42);
  });

  it('should compact objects with nested objects and arrays', () => {
    const input = { a: 1, b: { c: 2 }, d: [3, 4] };
    const expected = { a: 1, b: { c: 2 }, d: [3, 4] };
    expect(compact(input)).toEqual(expected);
  });

  it('should compact objects with nested arrays', () => {
    const input = { a: 1, b: [2, { c: 3 }] };
    const expected = { a: 1, b: [2, { c: 3 }] };
    expect(compact(input)).toEqual(expected);
  });

});

describe("compact", () => {

  it('should return an empty string when passed an empty string', () => {
    expect(compact('')).toEqual('');
  });

  it('should return zero when passed a number', () => {
    expect(compact(0)).toBe(0);
  });

  it('should return true when passed a boolean true', () => {
    expect(compact(true)).toBe(true);
  });

  it('should return false when passed a boolean false', () => {
    expect(compact(false)).toBe(false);
  });

  it('should return an array of numbers when passed an array of numbers', () => {
    expect(compact([1, 2, 3])).toEqual([1, 2, 3]);
  });

  it('should return an object with nested objects when passed an object with nested objects', () => {
    expect(compact({ a: { b: null } })).toEqual({ a: { b: null } });
  });

});

describe("maybeMap", () => {
  it("should map an array to a new array with the same elements", () => {
    const input = [1, 2, 3];
    const expected = [1, 2, 3];
    expect(maybeMap(input, (x) => x)).toEqual(expected);
  });

  it("should map a string to a new string with the same characters", () => {
    const input = "hello";
    const expected = "hello";
    expect(maybeMap(input, (x) => x)).toEqual(expected);
  });

  it("should map an object to a new object with the same properties", () => {
    const input = { a: 1, b: 2 };
    const expected = { a: 1, b: 2 };
    expect(maybeMap(input, (x) => x)).toEqual(expected);
  });

  it("should map null to null", () => {
    const input = null;
    const expected = null;
    expect(maybeMap(input, (x) => x)).toEqual(expected);
  });

  it("should map undefined to undefined", () => {
    const input = undefined;
    const expected = undefined;
    expect(maybeMap(input, (x) => x)).toEqual(expected);
  });
});

describe("isBuffer", () => {
  it(    "should return true for a buffer instance", () => {
      const buffer = new Buffer(10);
      expect(isBuffer(buffer)).toBe(true);
    });
});

describe("isBuffer", () => {
  it(    "should return true if the object is a buffer", () => {
      const obj = { constructor: { isBuffer: () => true } };
      expect(isBuffer(obj)).toEqual(true);
    });

  it("should return false if the object is not a buffer", () => {
    const obj = {};
    expect(isBuffer(obj)).toEqual(false);
  });
});

describe("arrayToObject", () => {
  it("should convert an array to an object with the first element as key and the rest as values", () => {
    const source = [1, 2, 3];
    const options = { plainObjects: true };
    const expected = { "0": 1, "1": 2, "2": 3 };
    expect(arrayToObject(source, options)).toEqual(expected);
  });
});

describe("arrayToObject", () => {

    it("should handle an array of objects without undefined values", () => {
        const source = [{ prop: 1 }, undefined, { prop: 3 }];
        const options = { plainObjects: false };
        const expected = { "0": { prop: 1 }, "2": { prop: 3 } };
        expect(arrayToObject(source, options)).toEqual(expected);
    });

    it("should handle an array with mixed types", () => {
        const source = [1, undefined, "three"];
        const options = { plainObjects: false };
        const expected = { "0": 1, "2": "three" };
        expect(arrayToObject(source, options)).toEqual(expected);
    });
});

describe("decode", () => {
  it("should decode a string with %20", () => {
    const str = "%20";
    const expected = " ";
    const result = decode(str);
    expect(result).toEqual(expected);
  });
});
