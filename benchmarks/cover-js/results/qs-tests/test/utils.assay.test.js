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

describe("encode", () => {
  it('should encode a string with no plus signs', () => {
    expect(encode('hello world')).toEqual('hello%20world');
  });

  it('should encode a long string', () => {
    const longString = 'a'.repeat(1024);
    expect(encode(longString)).toEqual(longString);
  });

  it('should encode special characters', () => {
    expect(encode('%')).toEqual('%25');
    expect(encode('&')).toEqual('%26');
    expect(encode('*')).toEqual('%2A');
    expect(encode('+')).toEqual('%2B');
    expect(encode(',')).toEqual('%2C');
    expect(encode('/')).toEqual('%2F');
    expect(encode(':')).toEqual('%3A');
    expect(encode(';')).toEqual('%3B');
    expect(encode('<')).toEqual('%3C');
    expect(encode('=')).toEqual('%3D');
    expect(encode('>')).toEqual('%3E');
    expect(encode('?')).toEqual('%3F');
    expect(encode('@')).toEqual('%40');
    expect(encode('!')).toEqual('%21');
  });

  it('should encode empty string', () => {
    expect(encode('')).toEqual('');
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

describe("isBuffer", () => {
  it(    "should return true for a Buffer instance", () => {
      const buffer = new Buffer(10);
      expect(isBuffer(buffer)).toBe(true);
    });
});

describe("encode", () => {
  it("encodes a string with non-ASCII characters", async () => {
    const str = "你好，世界！";
    const expected = encodeURIComponent(str).replace(/%u[0-9a-f]{4}/gi, function ($0) {
      return '%26%23' + parseInt($0.slice(2), 16) + '%3B';
    });
    expect(encode(str)).toEqual(expected);
  });

});
