import { describe, expect, it } from "vitest";
const stringify = require("../lib/stringify");

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

  it("returns \"\" for stringify(10, { commaRoundTrip: false })", () => {
    expect(stringify(10, { commaRoundTrip: false })).toEqual("");
  });

  it("returns \"0=1&1=2&2=3\" for stringify([1, 2, 3], { encoder: (value) => value })", () => {
    expect(stringify([1, 2, 3], { encoder: (value) => value })).toEqual("0=1&1=2&2=3");
  });

  it("returns \"encodeDotInKeys=true\" for stringify({ encodeDotInKeys: true }, { indices: true })", () => {
    expect(stringify({ encodeDotInKeys: true }, { indices: true })).toEqual("encodeDotInKeys=true");
  });

  it("throws for stringify(10, [])", () => {
    expect(() => stringify(10, [])).toThrow(new TypeError("Array.prototype.filter called on null or undefined"));
  });

  it("returns \"\" for stringify(1, { encodeDotInKeys: true })", () => {
    expect(stringify(1, { encodeDotInKeys: true })).toEqual("");
  });

  it("throws for stringify('?', { allowEmptyArrays: 'yes' })", () => {
    expect(() => stringify('?', { allowEmptyArrays: 'yes' })).toThrow(new TypeError("`allowEmptyArrays` option can only be `true` or `false`, when provided"));
  });

  it("throws for stringify(-1, { format: true })", () => {
    expect(() => stringify(-1, { format: true })).toThrow(new TypeError("Unknown format option provided."));
  });

  it("throws for stringify('a', { commaRoundTrip: 'yes' })", () => {
    expect(() => stringify('a', { commaRoundTrip: 'yes' })).toThrow(new TypeError("`commaRoundTrip` must be a boolean, or absent"));
  });

  it("throws for stringify('a', { encoder: 'f' })", () => {
    expect(() => stringify('a', { encoder: 'f' })).toThrow(new TypeError("Encoder has to be a function."));
  });

  it("throws for stringify('a,b', { encodeDotInKeys: 'yes' })", () => {
    expect(() => stringify('a,b', { encodeDotInKeys: 'yes' })).toThrow(new TypeError("`encodeDotInKeys` option can only be `true` or `false`, when provided"));
  });

  it("throws for stringify('é中😀', { charset: 'other' })", () => {
    expect(() => stringify('é中😀', { charset: 'other' })).toThrow(new TypeError("The charset option must be either utf-8, iso-8859-1, or undefined"));
  });

  it("returns \"\" for stringify(0)", () => {
    expect(stringify(0)).toEqual("");
  });

  it("throws for stringify(cyclic)", () => {
    const cyclic = { a: 1 };
    cyclic.self = cyclic;
    expect(() => stringify(cyclic)).toThrow(new RangeError("Cyclic object value"));
  });

  it("returns its result for stringify call 582", () => {
    expect(stringify({ a: 'b', c: null, d: '', e: ['f', 'g'], h: ['i'], j: [], u: [null], k: { l: 'm', n: null, o: [new Date(0)] }, 'q.r': 's', t: new Date(0) }, { filter: (key, value) => value })).toEqual("a=b&c=&d=&e%5B0%5D=f&e%5B1%5D=g&h%5B0%5D=i&u%5B0%5D=&k%5Bl%5D=m&k%5Bn%5D=&q.r=s");
  });

  it("returns \"a=b\" for stringify({ a: 'b' }, { filter: (key, value) => value })", () => {
    expect(stringify({ a: 'b' }, { filter: (key, value) => value })).toEqual("a=b");
  });

  it("returns its result for stringify call 594", () => {
    expect(stringify({ a: 'b', c: null, d: '', e: ['f', 'g'], h: ['i'], j: [], u: [null], k: { l: 'm', n: null, o: [new Date(0)] }, 'q.r': 's', t: new Date(0) }, { arrayFormat: 'comma' })).toEqual("a=b&c=&d=&e=f%2Cg&h=i&u=&k%5Bl%5D=m&k%5Bn%5D=&k%5Bo%5D=1970-01-01T00%3A00%3A00.000Z&q.r=s&t=1970-01-01T00%3A00%3A00.000Z");
  });

  it("returns \"a=b\" for stringify({ a: 'b' }, { serializeDate: (value) => value })", () => {
    expect(stringify({ a: 'b' }, { serializeDate: (value) => value })).toEqual("a=b");
  });

  it("returns its result for stringify call 706", () => {
    expect(stringify({ a: 'b', c: null, d: '', e: ['f', 'g'], h: ['i'], j: [], u: [null], k: { l: 'm', n: null, o: [new Date(0)] }, 'q.r': 's', t: new Date(0) }, { skipNulls: true })).toEqual("a=b&d=&e%5B0%5D=f&e%5B1%5D=g&h%5B0%5D=i&k%5Bl%5D=m&k%5Bo%5D%5B0%5D=1970-01-01T00%3A00%3A00.000Z&q.r=s&t=1970-01-01T00%3A00%3A00.000Z");
  });

  it("returns \"a%5Bb%5D=c\" for stringify({ a: { b: 'c' } }, { skipNulls: true })", () => {
    expect(stringify({ a: { b: 'c' } }, { skipNulls: true })).toEqual("a%5Bb%5D=c");
  });

  it("returns \"a=b\" for stringify({ a: 'b' }, { sort: (value) => value })", () => {
    expect(stringify({ a: 'b' }, { sort: (value) => value })).toEqual("a=b");
  });

  it("returns \"a%5Bb%5D=c\" for stringify({ a: { b: 'c' } }, { sort: (value) => value })", () => {
    expect(stringify({ a: { b: 'c' } }, { sort: (value) => value })).toEqual("a%5Bb%5D=c");
  });

  it("returns its result for stringify call 726", () => {
    expect(stringify({ a: 'b', c: null, d: '', e: ['f', 'g'], h: ['i'], j: [], u: [null], k: { l: 'm', n: null, o: [new Date(0)] }, 'q.r': 's', t: new Date(0) }, { sort: 'f' })).toEqual("a=b&c=&d=&e%5B0%5D=f&e%5B1%5D=g&h%5B0%5D=i&u%5B0%5D=&k%5Bl%5D=m&k%5Bn%5D=&k%5Bo%5D%5B0%5D=1970-01-01T00%3A00%3A00.000Z&q.r=s&t=1970-01-01T00%3A00%3A00.000Z");
  });

  it("returns its result for stringify call 796", () => {
    expect(stringify({ a: 'b', c: null, d: '', e: ['f', 'g'], h: ['i'], j: [], u: [null], k: { l: 'm', n: null, o: [new Date(0)] }, 'q.r': 's', t: new Date(0) }, { arrayFormat: 'comma', commaRoundTrip: true })).toEqual("a=b&c=&d=&e=f%2Cg&h%5B%5D=i&u%5B%5D=&k%5Bl%5D=m&k%5Bn%5D=&k%5Bo%5D%5B%5D=1970-01-01T00%3A00%3A00.000Z&q.r=s&t=1970-01-01T00%3A00%3A00.000Z");
  });

  it("returns its result for stringify call 920", () => {
    expect(stringify({ a: 'b', c: null, d: '', e: ['f', 'g'], h: ['i'], j: [], u: [null], k: { l: 'm', n: null, o: [new Date(0)] }, 'q.r': 's', t: new Date(0) }, { encodeValuesOnly: true, strictNullHandling: true })).toEqual("a=b&c&d=&e[0]=f&e[1]=g&h[0]=i&u[0]&k[l]=m&k[n]&k[o][0]=1970-01-01T00%3A00%3A00.000Z&q.r=s&t=1970-01-01T00%3A00%3A00.000Z");
  });

  it("returns its result for stringify call 984", () => {
    expect(stringify({ a: ['b', 'c', 'd'] }, { charset: 'utf-8', indices: true })).toEqual("a%5B0%5D=b&a%5B1%5D=c&a%5B2%5D=d");
  });

  it("returns \"foo[]&bar=baz\" for stringify call 1084", () => {
    expect(stringify({ foo: [], bar: 'baz' }, { arrayFormat: 'comma', allowEmptyArrays: true })).toEqual("foo[]&bar=baz");
  });

  it("returns \"a=b%2Cc\" for stringify call 1091", () => {
    expect(stringify({ a: ['b', 'c'] }, { arrayFormat: 'comma', commaRoundTrip: true })).toEqual("a=b%2Cc");
  });

  it("returns \"a=b%2Cc\" for stringify call 1092", () => {
    expect(stringify({ a: ['b', 'c'] }, { arrayFormat: 'comma', allowDots: true })).toEqual("a=b%2Cc");
  });

  it("returns \"a=b,c\" for stringify call 1104", () => {
    expect(stringify({ a: ['b', 'c'] }, { arrayFormat: 'comma', encodeValuesOnly: true })).toEqual("a=b,c");
  });

  it("returns \"a=b&c=d,e%3Df&f=g,h\" for stringify call 1105", () => {
    expect(stringify({ a: 'b', c: ['d', 'e=f'], f: [['g'], ['h']] }, { arrayFormat: 'comma', encodeValuesOnly: true })).toEqual("a=b&c=d,e%3Df&f=g,h");
  });

  it("returns \"a&b=\" for stringify call 1341", () => {
    expect(stringify({ a: null, b: '' }, { encodeValuesOnly: true, strictNullHandling: true })).toEqual("a&b=");
  });
});
