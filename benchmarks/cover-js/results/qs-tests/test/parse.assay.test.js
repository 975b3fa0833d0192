import { describe, expect, it } from "vitest";
const parse = require("../lib/parse");

describe("parse", () => {
  it("returns { a: \"c\" } for parse('a=c')", () => {
    expect(parse('a=c')).toEqual({ a: "c" });
  });

  it("returns its result for parse('a[hasOwnProperty]=b', { plainObjects: true })", () => {
    expect(parse('a[hasOwnProperty]=b', { plainObjects: true })).toEqual({ a: { hasOwnProperty: "b" } });
  });

  it("returns its result for parse('a[hasOwnProperty]=b', { allowPrototypes: true })", () => {
    expect(parse('a[hasOwnProperty]=b', { allowPrototypes: true })).toEqual({ a: { hasOwnProperty: "b" } });
  });

  it("returns { a: { b: \"c\" } } for parse('a%5Bb%5D=c')", () => {
    expect(parse('a%5Bb%5D=c')).toEqual({ a: { b: "c" } });
  });

  it("returns its result for parse('a[b][c][d][e][f][g][h][i]=j', { depth: 1 })", () => {
    expect(parse('a[b][c][d][e][f][g][h][i]=j', { depth: 1 })).toEqual({ a: { b: { "[c][d][e][f][g][h][i]": "j" } } });
  });

  it("throws for parse call 7", () => {
    expect(() => parse('a[b][c][d][e][f][g][h][i]=j', { depth: 1, strictDepth: true })).toThrow(new RangeError("Input depth exceeded depth option of 1 and strictDepth is true"));
  });

  it("returns { a: \"b\" } for parse('a=b&c=d', { parameterLimit: 1 })", () => {
    expect(parse('a=b&c=d', { parameterLimit: 1 })).toEqual({ a: "b" });
  });

  it("returns { a: \"b\", c: \"d\" } for parse('?a=b&c=d', { ignoreQueryPrefix: true })", () => {
    expect(parse('?a=b&c=d', { ignoreQueryPrefix: true })).toEqual({ a: "b", c: "d" });
  });

  it("returns { a: \"b\", c: \"d\" } for parse('a=b;c=d', { delimiter: ';' })", () => {
    expect(parse('a=b;c=d', { delimiter: ';' })).toEqual({ a: "b", c: "d" });
  });

  it("returns { a: { b: \"c\" } } for parse('a.b=c', { allowDots: true })", () => {
    expect(parse('a.b=c', { allowDots: true })).toEqual({ a: { b: "c" } });
  });

  it("returns its result for parse call 13", () => {
    expect(parse('name%252Eobj.first=John&name%252Eobj.last=Doe', { decodeDotInKeys: true })).toEqual({ "name.obj": { first: "John", last: "Doe" } });
  });

  it("returns { foo: [], bar: \"baz\" } for parse('foo[]&bar=baz', { allowEmptyArrays: true })", () => {
    expect(parse('foo[]&bar=baz', { allowEmptyArrays: true })).toEqual({ foo: [], bar: "baz" });
  });

  it("returns { foo: \"bar\" } for parse('foo=bar&foo=baz', { duplicates: 'first' })", () => {
    expect(parse('foo=bar&foo=baz', { duplicates: 'first' })).toEqual({ foo: "bar" });
  });

  it("returns { foo: \"baz\" } for parse('foo=bar&foo=baz', { duplicates: 'last' })", () => {
    expect(parse('foo=bar&foo=baz', { duplicates: 'last' })).toEqual({ foo: "baz" });
  });

  it("returns { a: \"§\" } for parse('a=%A7', { charset: 'iso-8859-1' })", () => {
    expect(parse('a=%A7', { charset: 'iso-8859-1' })).toEqual({ a: "§" });
  });

  it("returns { a: \"ø\" } for parse call 20", () => {
    expect(parse('utf8=%E2%9C%93&a=%C3%B8', { charset: 'iso-8859-1', charsetSentinel: true })).toEqual({ a: "ø" });
  });

  it("returns { a: \"ø\" } for parse call 21", () => {
    expect(parse('utf8=%26%2310003%3B&a=%F8', { charset: 'utf-8', charsetSentinel: true })).toEqual({ a: "ø" });
  });

  it("returns { a: \"☺\" } for parse call 22", () => {
    expect(parse('a=%26%239786%3B', { charset: 'iso-8859-1', interpretNumericEntities: true })).toEqual({ a: "☺" });
  });

  it("returns { a: [\"b\", \"c\"] } for parse('a[1]=c&a[0]=b')", () => {
    expect(parse('a[1]=c&a[0]=b')).toEqual({ a: ["b", "c"] });
  });

  it("returns { a: [\"b\", \"c\"] } for parse('a[1]=b&a[15]=c')", () => {
    expect(parse('a[1]=b&a[15]=c')).toEqual({ a: ["b", "c"] });
  });

  it("returns { a: [\"\", \"b\"] } for parse('a[]=&a[]=b')", () => {
    expect(parse('a[]=&a[]=b')).toEqual({ a: ["", "b"] });
  });

  it("returns { a: { \"100\": \"b\" } } for parse('a[100]=b')", () => {
    expect(parse('a[100]=b')).toEqual({ a: { "100": "b" } });
  });

  it("returns { a: { \"1\": \"b\" } } for parse('a[1]=b', { arrayLimit: 0 })", () => {
    expect(parse('a[1]=b', { arrayLimit: 0 })).toEqual({ a: { "1": "b" } });
  });

  it("returns { a: { \"0\": \"b\" } } for parse('a[]=b', { parseArrays: false })", () => {
    expect(parse('a[]=b', { parseArrays: false })).toEqual({ a: { "0": "b" } });
  });

  it("returns { a: [{ b: \"c\" }] } for parse('a[][b]=c')", () => {
    expect(parse('a[][b]=c')).toEqual({ a: [{ b: "c" }] });
  });

  it("returns { a: [\"b\", \"c\"] } for parse('a=b,c', { comma: true })", () => {
    expect(parse('a=b,c', { comma: true })).toEqual({ a: ["b", "c"] });
  });

  it("returns { a: \"\", b: \"\" } for parse('a&b=')", () => {
    expect(parse('a&b=')).toEqual({ a: "", b: "" });
  });

  it("returns { a: null, b: \"\" } for parse('a&b=', { strictNullHandling: true })", () => {
    expect(parse('a&b=', { strictNullHandling: true })).toEqual({ a: null, b: "" });
  });

  it("returns {} for parse('a', { delimiter: 'a' })", () => {
    expect(parse('a', { delimiter: 'a' })).toEqual({});
  });

  it("returns {} for parse(0, { decoder: (value) => value })", () => {
    expect(parse(0, { decoder: (value) => value })).toEqual({});
  });

  it("returns {} for parse('')", () => {
    expect(parse('')).toEqual({});
  });

  it("returns {} for parse(null)", () => {
    expect(parse(null)).toEqual({});
  });

  it("returns {} for parse(0)", () => {
    expect(parse(0)).toEqual({});
  });

  it("returns {} for parse(undefined)", () => {
    expect(parse(undefined)).toEqual({});
  });

  it("returns {} for parse('toString')", () => {
    expect(parse('toString')).toEqual({});
  });

  it("returns { \"0\": 1 } for parse([1], 1)", () => {
    expect(parse([1], 1)).toEqual({ "0": 1 });
  });

  it("returns { a: \"c\" } for parse('a=c', { parameterLimit: Infinity })", () => {
    expect(parse('a=c', { parameterLimit: Infinity })).toEqual({ a: "c" });
  });

  it("throws for parse('', { charset: 'other' })", () => {
    expect(() => parse('', { charset: 'other' })).toThrow(new TypeError("The charset option must be either utf-8, iso-8859-1, or undefined"));
  });

  it("returns {} for parse('', { decoder: (key, value) => value })", () => {
    expect(parse('', { decoder: (key, value) => value })).toEqual({});
  });

  it("throws for parse('', { decoder: 'f' })", () => {
    expect(() => parse('', { decoder: 'f' })).toThrow(new TypeError("Decoder has to be a function."));
  });

  it("throws for parse('', { duplicates: 'other' })", () => {
    expect(() => parse('', { duplicates: 'other' })).toThrow(new TypeError("The duplicates option must be either combine, first, or last"));
  });

  it("throws for parse('', { allowEmptyArrays: 'yes' })", () => {
    expect(() => parse('', { allowEmptyArrays: 'yes' })).toThrow(new TypeError("`allowEmptyArrays` option can only be `true` or `false`, when provided"));
  });

  it("returns {} for parse('', { plainObjects: true })", () => {
    expect(parse('', { plainObjects: true })).toEqual({});
  });

  it("throws for parse('', { decodeDotInKeys: 'yes' })", () => {
    expect(() => parse('', { decodeDotInKeys: 'yes' })).toThrow(new TypeError("`decodeDotInKeys` option can only be `true` or `false`, when provided"));
  });

  it("returns {} for parse('a[hasOwnProperty]=b', { depth: '1' })", () => {
    expect(parse('a[hasOwnProperty]=b', { depth: '1' })).toEqual({});
  });

  it("returns { \"foo[bar]\": \"baz\" } for parse('foo[bar]=baz', { depth: false })", () => {
    expect(parse('foo[bar]=baz', { depth: false })).toEqual({ "foo[bar]": "baz" });
  });

  it("returns {} for parse('', { allowSparse: true })", () => {
    expect(parse('', { allowSparse: true })).toEqual({});
  });

  it("returns { a: \"c\" } for parse('a=c', { allowSparse: true })", () => {
    expect(parse('a=c', { allowSparse: true })).toEqual({ a: "c" });
  });

  it("returns { a: \"c\" } for parse('a=c', { comma: true, charsetSentinel: true })", () => {
    expect(parse('a=c', { comma: true, charsetSentinel: true })).toEqual({ a: "c" });
  });

  it("returns { a: \"b,c\" } for parse('a=b,c', { comma: 'yes' })", () => {
    expect(parse('a=b,c', { comma: 'yes' })).toEqual({ a: "b,c" });
  });

  it("returns { a: [\"b\"] } for parse('a[1]=b', { arrayLimit: 1 })", () => {
    expect(parse('a[1]=b', { arrayLimit: 1 })).toEqual({ a: ["b"] });
  });

  it("throws for parse('a[b][c][d][e][f][g][h][i]=j', { strictDepth: true })", () => {
    expect(() => parse('a[b][c][d][e][f][g][h][i]=j', { strictDepth: true })).toThrow(new RangeError("Input depth exceeded depth option of 5 and strictDepth is true"));
  });

  it("returns { a: [\"b\", \"c\"] } for parse('a=b,c', { charset: 'iso-8859-1', comma: true })", () => {
    expect(parse('a=b,c', { charset: 'iso-8859-1', comma: true })).toEqual({ a: ["b", "c"] });
  });

  it("returns { foo: [], bar: \"baz\" } for parse call 1217", () => {
    expect(parse('foo[]&bar=baz', { strictNullHandling: true, allowEmptyArrays: true })).toEqual({ foo: [], bar: "baz" });
  });

  it("returns { a: [\"\"] } for parse('a[]=', { strictNullHandling: true })", () => {
    expect(parse('a[]=', { strictNullHandling: true })).toEqual({ a: [""] });
  });

  it("returns { \"a.b\": \"j\" } for parse('a.b=j', { depth: 1 })", () => {
    expect(parse('a.b=j', { depth: 1 })).toEqual({ "a.b": "j" });
  });

  it("returns { utf8: \"j\" } for parse('utf8=j', { depth: 1 })", () => {
    expect(parse('utf8=j', { depth: 1 })).toEqual({ utf8: "j" });
  });

  it("returns { a: [[\"b\", \"c\"]] } for parse('a[]=b,c', { comma: true })", () => {
    expect(parse('a[]=b,c', { comma: true })).toEqual({ a: [["b", "c"]] });
  });

  it("returns { foo: [\"b\"] } for parse('foo[]=b', { allowEmptyArrays: true })", () => {
    expect(parse('foo[]=b', { allowEmptyArrays: true })).toEqual({ foo: ["b"] });
  });
});
