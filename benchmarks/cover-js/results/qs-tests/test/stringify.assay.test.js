import { describe, expect, it } from "vitest";
import stringify from "../lib/stringify.js";

describe("stringify", () => {
  it("returns \"a[b]=c\" for stringify({ a: { b: 'c' } }, { encode: false })", () => {
    expect(stringify({ a: { b: 'c' } }, { encode: false })).toEqual("a[b]=c");
  });

  it("returns its result for stringify call 3", () => {
    expect(stringify({ a: 'b', c: ['d', 'e=f'], f: [['g'], ['h']] }, { encodeValuesOnly: true })).toEqual("a=b&c[0]=d&c[1]=e%3Df&f[0][0]=g&f[1][0]=h");
  });

  it("returns \"a=b&a=c&a=d\" for stringify({ a: ['b', 'c', 'd'] }, { indices: false })", () => {
    expect(stringify({ a: ['b', 'c', 'd'] }, { indices: false })).toEqual("a=b&a=c&a=d");
  });

  it("returns \"a%5B%5D=b&a%5B%5D=c\" for stringify({ a: ['b', 'c'] }, { arrayFormat: 'brackets' })", () => {
    expect(stringify({ a: ['b', 'c'] }, { arrayFormat: 'brackets' })).toEqual("a%5B%5D=b&a%5B%5D=c");
  });

  it("returns \"a=b%2Cc\" for stringify({ a: ['b', 'c'] }, { arrayFormat: 'comma' })", () => {
    expect(stringify({ a: ['b', 'c'] }, { arrayFormat: 'comma' })).toEqual("a=b%2Cc");
  });

  it("returns \"a.b.c=d&a.b.e=f\" for stringify call 11", () => {
    expect(stringify({ a: { b: { c: 'd', e: 'f' } } }, { allowDots: true })).toEqual("a.b.c=d&a.b.e=f");
  });

  it("returns its result for stringify call 12", () => {
    expect(stringify({ "name.obj": { "first": "John", "last": "Doe" } }, { allowDots: true, encodeDotInKeys: true })).toEqual("name%252Eobj.first=John&name%252Eobj.last=Doe");
  });

  it("returns \"foo[]&bar=baz\" for stringify call 13", () => {
    expect(stringify({ foo: [], bar: 'baz' }, { allowEmptyArrays: true })).toEqual("foo[]&bar=baz");
  });

  it("returns \"a=\" for stringify({ a: '' })", () => {
    expect(stringify({ a: '' })).toEqual("a=");
  });

  it("returns \"\" for stringify({ a: [] })", () => {
    expect(stringify({ a: [] })).toEqual("");
  });

  it("returns \"\" for stringify({ a: [{}] })", () => {
    expect(stringify({ a: [{}] })).toEqual("");
  });

  it("returns \"\" for stringify({ a: { b: []} })", () => {
    expect(stringify({ a: { b: []} })).toEqual("");
  });

  it("returns \"a=\" for stringify({ a: null, b: undefined })", () => {
    expect(stringify({ a: null, b: undefined })).toEqual("a=");
  });

  it("returns \"?a=b&c=d\" for stringify({ a: 'b', c: 'd' }, { addQueryPrefix: true })", () => {
    expect(stringify({ a: 'b', c: 'd' }, { addQueryPrefix: true })).toEqual("?a=b&c=d");
  });

  it("returns \"a=b;c=d\" for stringify({ a: 'b', c: 'd' }, { delimiter: ';' })", () => {
    expect(stringify({ a: 'b', c: 'd' }, { delimiter: ';' })).toEqual("a=b;c=d");
  });

  it("returns \"a=b&e=f\" for stringify call 23", () => {
    expect(stringify({ a: 'b', c: 'd', e: 'f' }, { filter: ['a', 'e'] })).toEqual("a=b&e=f");
  });

  it("returns \"a%5B0%5D=b&a%5B2%5D=d\" for stringify call 24", () => {
    expect(stringify({ a: ['b', 'c', 'd'], e: 'f' }, { filter: ['a', 0, 2] })).toEqual("a%5B0%5D=b&a%5B2%5D=d");
  });

  it("returns \"a=&b=\" for stringify({ a: null, b: '' })", () => {
    expect(stringify({ a: null, b: '' })).toEqual("a=&b=");
  });

  it("returns \"a&b=\" for stringify({ a: null, b: '' }, { strictNullHandling: true })", () => {
    expect(stringify({ a: null, b: '' }, { strictNullHandling: true })).toEqual("a&b=");
  });

  it("returns \"a=b\" for stringify({ a: 'b', c: null}, { skipNulls: true })", () => {
    expect(stringify({ a: 'b', c: null}, { skipNulls: true })).toEqual("a=b");
  });

  it("returns \"%E6=%E6\" for stringify({ æ: 'æ' }, { charset: 'iso-8859-1' })", () => {
    expect(stringify({ æ: 'æ' }, { charset: 'iso-8859-1' })).toEqual("%E6=%E6");
  });

  it("returns \"utf8=%E2%9C%93&a=%E2%98%BA\" for stringify({ a: '☺' }, { charsetSentinel: true })", () => {
    expect(stringify({ a: '☺' }, { charsetSentinel: true })).toEqual("utf8=%E2%9C%93&a=%E2%98%BA");
  });

  it("returns \"utf8=%26%2310003%3B&a=%E6\" for stringify call 31", () => {
    expect(stringify({ a: 'æ' }, { charsetSentinel: true, charset: 'iso-8859-1' })).toEqual("utf8=%26%2310003%3B&a=%E6");
  });

  it("returns \"a=b%20c\" for stringify({ a: 'b c' }, { format : 'RFC3986' })", () => {
    expect(stringify({ a: 'b c' }, { format : 'RFC3986' })).toEqual("a=b%20c");
  });

  it("returns \"a=b+c\" for stringify({ a: 'b c' }, { format : 'RFC1738' })", () => {
    expect(stringify({ a: 'b c' }, { format : 'RFC1738' })).toEqual("a=b+c");
  });

  it("throws for stringify(false, { charset: 'other' })", () => {
    expect(() => stringify(false, { charset: 'other' })).toThrow(new TypeError("The charset option must be either utf-8, iso-8859-1, or undefined"));
  });

  it("returns \"0=1&1=2&2=3\" for stringify([1, 2, 3], { arrayFormat: false })", () => {
    expect(stringify([1, 2, 3], { arrayFormat: false })).toEqual("0=1&1=2&2=3");
  });

  it("returns \"format=true\" for stringify({ format: true }, { charset: 'utf-8' })", () => {
    expect(stringify({ format: true }, { charset: 'utf-8' })).toEqual("format=true");
  });

  it("throws for stringify(0, { encoder: 'f' })", () => {
    expect(() => stringify(0, { encoder: 'f' })).toThrow(new TypeError("Encoder has to be a function."));
  });

  it("throws for stringify([], { commaRoundTrip: 'yes' })", () => {
    expect(() => stringify([], { commaRoundTrip: 'yes' })).toThrow(new TypeError("`commaRoundTrip` must be a boolean, or absent"));
  });

  it("throws for stringify(true, { allowEmptyArrays: 'yes' })", () => {
    expect(() => stringify(true, { allowEmptyArrays: 'yes' })).toThrow(new TypeError("`allowEmptyArrays` option can only be `true` or `false`, when provided"));
  });

  it("returns \"\" for stringify('a[]b', { commaRoundTrip: false })", () => {
    expect(stringify('a[]b', { commaRoundTrip: false })).toEqual("");
  });

  it("throws for stringify(0.5, { encodeDotInKeys: 'yes' })", () => {
    expect(() => stringify(0.5, { encodeDotInKeys: 'yes' })).toThrow(new TypeError("`encodeDotInKeys` option can only be `true` or `false`, when provided"));
  });

  it("throws for stringify(10, { format: true })", () => {
    expect(() => stringify(10, { format: true })).toThrow(new TypeError("Unknown format option provided."));
  });

  it("returns \"a.b=c\" for stringify({ a: { b: 'c' } }, { encodeDotInKeys: true })", () => {
    expect(stringify({ a: { b: 'c' } }, { encodeDotInKeys: true })).toEqual("a.b=c");
  });

  it("returns \"a[b]=c\" for stringify({ a: { b: 'c' } }, { encoder: (value) => value })", () => {
    expect(stringify({ a: { b: 'c' } }, { encoder: (value) => value })).toEqual("a[b]=c");
  });

  it("returns \"\" for stringify({ a: 'b' }, { filter: (value) => value })", () => {
    expect(stringify({ a: 'b' }, { filter: (value) => value })).toEqual("");
  });

  it("returns its result for stringify call 456", () => {
    expect(stringify({ a: 'b', c: ['d', 'e=f'], f: [['g'], ['h']] }, { indices: true })).toEqual("a=b&c%5B0%5D=d&c%5B1%5D=e%3Df&f%5B0%5D%5B0%5D=g&f%5B1%5D%5B0%5D=h");
  });

  it("returns its result for stringify call 462", () => {
    expect(stringify({ a: 'b', c: ['d', 'e=f'], f: [['g'], ['h']] }, { commaRoundTrip: true })).toEqual("a=b&c%5B0%5D=d&c%5B1%5D=e%3Df&f%5B0%5D%5B0%5D=g&f%5B1%5D%5B0%5D=h");
  });

  it("returns \"a%5Bb%5D=c\" for stringify({ a: { b: 'c' } }, { skipNulls: true })", () => {
    expect(stringify({ a: { b: 'c' } }, { skipNulls: true })).toEqual("a%5Bb%5D=c");
  });

  it("returns \"a=b\" for stringify({ a: 'b' }, { sort: 'f' })", () => {
    expect(stringify({ a: 'b' }, { sort: 'f' })).toEqual("a=b");
  });
});
