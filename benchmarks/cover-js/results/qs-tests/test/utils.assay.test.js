import { describe, expect, it } from "vitest";
import { arrayToObject, assign, combine, compact, decode, encode, isBuffer, isRegExp, maybeMap, merge } from "../lib/utils.js";

describe("encode", () => {
  it("returns \"0\" for encode(0, 0, 0, 0, 0)", () => {
    expect(encode(0, 0, 0, 0, 0)).toEqual("0");
  });

  it("returns \"iso-8859-1\" for encode call 5", () => {
    expect(encode('iso-8859-1', 'iso-8859-1', 'iso-8859-1', 'iso-8859-1', 'iso-8859-1')).toEqual("iso-8859-1");
  });

  it("returns \"%5Bobject%20Object%5D\" for encode({ allowPrototypes: true }, [], 0x29, [], 0x5F)", () => {
    expect(encode({ allowPrototypes: true }, [], 0x29, [], 0x5F)).toEqual("%5Bobject%20Object%5D");
  });

  it("returns \"\" for encode('', -1, undefined, 0.5, false)", () => {
    expect(encode('', -1, undefined, 0.5, false)).toEqual("");
  });

  it("returns \"false\" for encode(false, 2, 2, 2, 10)", () => {
    expect(encode(false, 2, 2, 2, 10)).toEqual("false");
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

  it("returns [null] for merge(null, [], true)", () => {
    expect(merge(null, [], true)).toEqual([null]);
  });

  it("returns its result for merge(-1, { allowPrototypes: false }, false)", () => {
    expect(merge(-1, { allowPrototypes: false }, false)).toEqual([-1, { allowPrototypes: false }]);
  });
});

describe("compact", () => {
  it("returns \"o\" for compact('o')", () => {
    expect(compact('o')).toEqual("o");
  });

  it("returns 0 for compact(0)", () => {
    expect(compact(0)).toEqual(0);
  });
});

describe("decode", () => {
  it("returns \" \" for decode(' ', ' ', ' ')", () => {
    expect(decode(' ', ' ', ' ')).toEqual(" ");
  });

  it("returns \"iso-8859-1\" for decode('iso-8859-1', 'iso-8859-1', 'iso-8859-1')", () => {
    expect(decode('iso-8859-1', 'iso-8859-1', 'iso-8859-1')).toEqual("iso-8859-1");
  });

  it("returns \"a%b\" for decode('a%b', [1, 2, 3], 10)", () => {
    expect(decode('a%b', [1, 2, 3], 10)).toEqual("a%b");
  });
});

describe("arrayToObject", () => {
  it("returns {} for arrayToObject(0, 0)", () => {
    expect(arrayToObject(0, 0)).toEqual({});
  });

  it("returns {} for arrayToObject(1, 1)", () => {
    expect(arrayToObject(1, 1)).toEqual({});
  });

  it("returns its result for arrayToObject('a%b', { plainObjects: true })", () => {
    expect(arrayToObject('a%b', { plainObjects: true })).toEqual({ "0": "a", "1": "%", "2": "b" });
  });

  it("returns its result for arrayToObject('a b', 'a b')", () => {
    expect(arrayToObject('a b', 'a b')).toEqual({ "0": "a", "1": " ", "2": "b" });
  });
});

describe("maybeMap", () => {
  it("returns [] for maybeMap([], false)", () => {
    expect(maybeMap([], false)).toEqual([]);
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

  it("throws for assign(0, [1, 2, 3])", () => {
    expect(() => assign(0, [1, 2, 3])).toThrow("Cannot create property '0' on number '0'");
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
});

describe("merge", () => {
  it(    "should merge objects correctly", () => {
        const target = { a: 1, b: 2 };
        const source = { c: 3, d: 4 };
        const options = { plainObjects: true };

        const expected = { a: 1, b: 2, c: 3, d: 4 };
        expect(merge(target, source, options)).toEqual(expected);
    });
});

describe("merge", () => {
  it(    "should merge objects", () => {
        const target = { a: 1, b: 2 };
        const source = { c: 3, d: 4 };
        const options = { plainObjects: true };

        expect(merge(target, source, options)).toEqual({ a: 1, b: 2, c: 3, d: 4 });
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
  it("should return true for a buffer", () => {
    const buffer = Buffer.from([1, 2, 3]);
    expect(isBuffer(buffer)).toBe(true);
  });

  it("should return false for an object that is not a buffer", () => {
    const obj = { a: 1 };
    expect(isBuffer(obj)).toBe(false);
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
