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

  it("returns \"a%0D%0A%09b\" for encode('a\\r\\n\\tb', 0x2E, 10, 'string', 'iso-8859-1')", () => {
    expect(encode('a\r\n\tb', 0x2E, 10, 'string', 'iso-8859-1')).toEqual("a%0D%0A%09b");
  });

  it("returns \"iso-8859-1\" for encode call 28", () => {
    expect(encode('iso-8859-1', { plainObjects: true }, false, '  padded  ', 0x28)).toEqual("iso-8859-1");
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

  it("returns { a: true } for merge({}, 'a', 'a b')", () => {
    expect(merge({}, 'a', 'a b')).toEqual({ a: true });
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

  it("returns [1, {}] for merge(1, {}, 'a%b')", () => {
    expect(merge(1, {}, 'a%b')).toEqual([1, {}]);
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

  it("returns {} for arrayToObject(0, null)", () => {
    expect(arrayToObject(0, null)).toEqual({});
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

  it("returns its result for assign({}, 'a b')", () => {
    expect(assign({}, 'a b')).toEqual({ "0": "a", "1": " ", "2": "b" });
  });

  it("throws for assign('a\\r\\n\\tb', 'a%b')", () => {
    expect(() => assign('a\r\n\tb', 'a%b')).toThrow(new TypeError("Cannot assign to read only property '0' of string 'a\r\n\tb'"));
  });

  it("throws for assign(0, { plainObjects: false })", () => {
    expect(() => assign(0, { plainObjects: false })).toThrow(new TypeError("Cannot create property 'plainObjects' on number '0'"));
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

describe("encode", () => {
  it('should encode a string with no special characters', () => {
    const input = 'hello';
    const expected = 'hello';
    expect(encode(input)).toEqual(expected);
  });

  it('should encode a string with special characters', () => {
    const input = 'hello world!';
    const expected = 'hello%20world%21';
    expect(encode(input)).toEqual(expected);
  });

});

describe("merge", () => {
  it("should merge two objects correctly", () => {
    const target = {};
    const source = { a: 1, b: 2 };
    const options = { plainObjects: true };

    const expected = { a: 1, b: 2 };
    expect(merge(target, source, options)).toEqual(expected);
  });

  it("should merge an array into an object correctly", () => {
    const target = {};
    const source = [3, 4];
    const options = { plainObjects: true };

    const expected = { 0: 3, 1: 4 };
    expect(merge(target, source, options)).toEqual(expected);
  });

  it("should merge two arrays correctly", () => {
    const target = [5, 6];
    const source = [7, 8];
    const options = { plainObjects: true };

    const expected = [5, 6, 7, 8];
    expect(merge(target, source, options)).toEqual(expected);
  });

});

describe("merge", () => {
  it(    "should merge objects", () => {
        const target = { a: 1, b: 2 };
        const source = { c: 3, d: 4 };
        const options = {};

        expect(merge(target, source, options)).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    });

    // NOT COVERED
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

describe("arrayToObject", () => {
  it(    "should handle an empty array", () => {
        const source = [];
        const options = { plainObjects: true };
        const expected = {};
        expect(arrayToObject(source, options)).toEqual(expected);
    });

  it("should handle a non-empty array with no undefined values", () => {
        const source = [1, 2, 3];
        const options = { plainObjects: true };
        const expected = { 0: 1, 1: 2, 2: 3 };
        expect(arrayToObject(source, options)).toEqual(expected);
    });

  it("should handle a non-empty array with undefined values", () => {
        const source = [1, undefined, 3];
        const options = { plainObjects: true };
        const expected = { 0: 1, 2: 3 };
        expect(arrayToObject(source, options)).toEqual(expected);
    });
});

describe("arrayToObject", () => {

    it("should handle an array of objects without undefined values", () => {
        const source = [{ prop: 1 }, undefined, { prop: 2 }];
        const options = { plainObjects: false };
        const expected = { "0": { prop: 1 }, 2: { prop: 2 } };
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

describe("isBuffer", () => {
  it(    "should return true for a Buffer instance", () => {
      const buffer = new Buffer(10);
      expect(isBuffer(buffer)).toBe(true);
    });
});

describe("encode", () => {
  it("should handle a simple string with no special characters", () => {
    const input = "Hello";
    const expected = "Hello";
    expect(encode(input)).toEqual(expected);
  });

  it("should handle a simple string with special characters (space, dot, underscore)", () => {
    const input = "Hello World!";
    const expected = "Hello%20World%21";
    expect(encode(input)).toEqual(expected);
  });

  // Add more tests as needed
});

describe("encode", () => {

  // Add tests for other lines
  it('should handle empty strings correctly', async () => {
    const input = '';
    const expectedOutput = '';
    expect(encode(input)).toEqual(expectedOutput);
  });

});

describe("merge", () => {

  it('should merge two objects with different properties and options', () => {
    const source = { a: 1, b: 2 };
    const target = { c: 3, d: 4 };
    const options = {
      plainObjects: true,
      allowPrototypes: false,
    };

    expect(merge(target, source, options)).toEqual({ a: 1, b: 2, c: 3, d: 4 });
  });
});

describe("merge", () => {
  it('should return the same object if no source is provided', () => {
    const target = {};
    const result = merge(target);
    expect(result).toBe(target);
  });

  it('should merge arrays correctly when target is an array', () => {
    const target = [1, 2];
    const source = [3, 4];
    const expected = [1, 2, 3, 4];
    const result = merge(target, source);
    expect(result).toEqual(expected);
  });

  it('should merge arrays correctly when target is not an array', () => {
    const target = { a: 1, b: 2 };
    const source = [3, 4];
    const expected = { a: 1, b: 2, 0: 3, 1: 4 };
    const result = merge(target, source);
    expect(result).toEqual(expected);
  });

  it('should merge objects correctly when target is an object', () => {
    const target = { a: 1, b: 2 };
    const source = { c: 3, d: 4 };
    const expected = { a: 1, b: 2, c: 3, d: 4 };
    const result = merge(target, source);
    expect(result).toEqual(expected);
  });

});

describe("compact", () => {
  it('should return the same object when called with an empty object', () => {
    const result = compact({});
    expect(result).toEqual({});
  });

  it('should return the same object when called with a single object property', () => {
    const result = compact({ a: 1 });
    expect(result).toEqual({ a: 1 });
  });

  it('should return the same object when called with multiple object properties and nested objects', () => {
    const result = compact({ a: 1, b: { c: [2, 3] }, d: { e: 4 } });
    expect(result).toEqual({ a: 1, b: { c: [2, 3] }, d: { e: 4 } });
  });

  it('should return the same object when called with an array', () => {
    const result = compact([1, 2, 3]);
    expect(result).toEqual([1, 2, 3]);
  });

  it('should return the same object when called with a string', () => {
    const result = compact("test");
    expect(result).toEqual("test");
  });

});
