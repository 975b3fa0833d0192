import { describe, expect, it } from "vitest";
const { parse, stringify } = require("../lib/index");

describe("parse", () => {
  it("returns { a: \"c\" } for parse('a=c')", () => {
    expect(parse('a=c')).toEqual({ a: "c" });
  });

  it("returns { foo: { bar: \"baz\" } } for parse('foo[bar]=baz')", () => {
    expect(parse('foo[bar]=baz')).toEqual({ foo: { bar: "baz" } });
  });

  it("returns { a: { b: \"c\" } } for parse('a%5Bb%5D=c')", () => {
    expect(parse('a%5Bb%5D=c')).toEqual({ a: { b: "c" } });
  });

  it("returns { foo: [\"bar\", \"baz\"] } for parse('foo=bar&foo=baz')", () => {
    expect(parse('foo=bar&foo=baz')).toEqual({ foo: ["bar", "baz"] });
  });

  it("returns { a: [\"b\", \"c\"] } for parse('a[]=b&a[]=c')", () => {
    expect(parse('a[]=b&a[]=c')).toEqual({ a: ["b", "c"] });
  });

  it("returns { a: [\"\", \"b\"] } for parse('a[]=&a[]=b')", () => {
    expect(parse('a[]=&a[]=b')).toEqual({ a: ["", "b"] });
  });

  it("returns { a: [\"b\", \"\", \"c\"] } for parse('a[0]=b&a[1]=&a[2]=c')", () => {
    expect(parse('a[0]=b&a[1]=&a[2]=c')).toEqual({ a: ["b", "", "c"] });
  });

  it("returns { a: { \"100\": \"b\" } } for parse('a[100]=b')", () => {
    expect(parse('a[100]=b')).toEqual({ a: { "100": "b" } });
  });

  it("returns { a: { \"0\": \"b\", b: \"c\" } } for parse('a[0]=b&a[b]=c')", () => {
    expect(parse('a[0]=b&a[b]=c')).toEqual({ a: { "0": "b", b: "c" } });
  });

  it("returns { a: [{ b: \"c\" }] } for parse('a[][b]=c')", () => {
    expect(parse('a[][b]=c')).toEqual({ a: [{ b: "c" }] });
  });

  it("returns its result for parse('a=15&b=true&c=null')", () => {
    expect(parse('a=15&b=true&c=null')).toEqual({ a: "15", b: "true", c: "null" });
  });

  it("returns { a: \"\", b: \"\" } for parse('a&b=')", () => {
    expect(parse('a&b=')).toEqual({ a: "", b: "" });
  });
});

describe("stringify", () => {
  it("returns \"a=b\" for stringify({ a: 'b' })", () => {
    expect(stringify({ a: 'b' })).toEqual("a=b");
  });

  it("returns \"a%5Bb%5D=c\" for stringify({ a: { b: 'c' } })", () => {
    expect(stringify({ a: { b: 'c' } })).toEqual("a%5Bb%5D=c");
  });

  it("returns \"a[b]=c\" for stringify({ a: { b: 'c' } }, { encode: false })", () => {
    expect(stringify({ a: { b: 'c' } }, { encode: false })).toEqual("a[b]=c");
  });

  it("returns its result for stringify({ a: ['b', 'c', 'd'] })", () => {
    expect(stringify({ a: ['b', 'c', 'd'] })).toEqual("a%5B0%5D=b&a%5B1%5D=c&a%5B2%5D=d");
  });

  it("returns its result for stringify({ a: { b: { c: 'd', e: 'f' } } })", () => {
    expect(stringify({ a: { b: { c: 'd', e: 'f' } } })).toEqual("a%5Bb%5D%5Bc%5D=d&a%5Bb%5D%5Be%5D=f");
  });

  it("returns \"a=\" for stringify({ a: '' })", () => {
    expect(stringify({ a: '' })).toEqual("a=");
  });

  it("returns \"\" for stringify({ a: [] })", () => {
    expect(stringify({ a: [] })).toEqual("");
  });

  it("returns \"a=&b=\" for stringify({ a: null, b: '' })", () => {
    expect(stringify({ a: null, b: '' })).toEqual("a=&b=");
  });

  it("returns \"%E6=%E6\" for stringify({ æ: 'æ' }, { charset: 'iso-8859-1' })", () => {
    expect(stringify({ æ: 'æ' }, { charset: 'iso-8859-1' })).toEqual("%E6=%E6");
  });

  it("returns \"a=%26%239786%3B\" for stringify({ a: '☺' }, { charset: 'iso-8859-1' })", () => {
    expect(stringify({ a: '☺' }, { charset: 'iso-8859-1' })).toEqual("a=%26%239786%3B");
  });

  it("returns \"a=b%20c\" for stringify({ a: 'b c' })", () => {
    expect(stringify({ a: 'b c' })).toEqual("a=b%20c");
  });

  it("returns \"a=b+c\" for stringify({ a: 'b c' }, { format : 'RFC1738' })", () => {
    expect(stringify({ a: 'b c' }, { format : 'RFC1738' })).toEqual("a=b+c");
  });
});
