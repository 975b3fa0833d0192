import { describe, expect, it } from "vitest";
import parse from "../lib/parse.js";

describe("parse", () => {
  it("returns {} for parse('', '')", () => {
    expect(parse('', '')).toEqual({});
  });

  it("returns {} for parse(0, 0)", () => {
    expect(parse(0, 0)).toEqual({});
  });

  it("returns {} for parse(1, 1)", () => {
    expect(parse(1, 1)).toEqual({});
  });

  it("returns { a: \"\" } for parse('a', '')", () => {
    expect(parse('a', '')).toEqual({ a: "" });
  });

  it("returns {} for parse(2, { interpretNumericEntities: false })", () => {
    expect(parse(2, { interpretNumericEntities: false })).toEqual({});
  });

  it("returns { \"a]\": \"b[]c\" } for parse('a]=b[]c', '')", () => {
    expect(parse('a]=b[]c', '')).toEqual({ "a]": "b[]c" });
  });

  it("returns { decodeDotInKeys: true } for parse({ decodeDotInKeys: true }, { plainObjects: true })", () => {
    expect(parse({ decodeDotInKeys: true }, { plainObjects: true })).toEqual({ decodeDotInKeys: true });
  });

  it("returns {} for parse(0.5, { allowDots: true })", () => {
    expect(parse(0.5, { allowDots: true })).toEqual({});
  });

  it("returns { plainObjects: false } for parse({ plainObjects: false }, { depth: false })", () => {
    expect(parse({ plainObjects: false }, { depth: false })).toEqual({ plainObjects: false });
  });

  it("returns { arrayLimit: false } for parse({ arrayLimit: false }, { allowPrototypes: true })", () => {
    expect(parse({ arrayLimit: false }, { allowPrototypes: true })).toEqual({ arrayLimit: false });
  });

  it("returns {} for parse({}, { allowEmptyArrays: true })", () => {
    expect(parse({}, { allowEmptyArrays: true })).toEqual({});
  });

  it("returns {} for parse(1, { charsetSentinel: true })", () => {
    expect(parse(1, { charsetSentinel: true })).toEqual({});
  });

  it("returns { a: \"b\" } for parse('a=b', 'a=b')", () => {
    expect(parse('a=b', 'a=b')).toEqual({ a: "b" });
  });

  it("returns {} for parse(0, { comma: true })", () => {
    expect(parse(0, { comma: true })).toEqual({});
  });

  it("returns {} for parse({}, { strictNullHandling: true })", () => {
    expect(parse({}, { strictNullHandling: true })).toEqual({});
  });

  it("returns {} for parse({}, { decodeDotInKeys: true })", () => {
    expect(parse({}, { decodeDotInKeys: true })).toEqual({});
  });

  it("returns {} for parse('', { charset: 'iso-8859-1' })", () => {
    expect(parse('', { charset: 'iso-8859-1' })).toEqual({});
  });

  it("returns {} for parse(undefined, { plainObjects: true })", () => {
    expect(parse(undefined, { plainObjects: true })).toEqual({});
  });

  it("returns { allowDots: false } for parse({ allowDots: false }, { parseArrays: false })", () => {
    expect(parse({ allowDots: false }, { parseArrays: false })).toEqual({ allowDots: false });
  });

  it("returns { \"a,b\": \"\" } for parse('a,b', { duplicates: 'last' })", () => {
    expect(parse('a,b', { duplicates: 'last' })).toEqual({ "a,b": "" });
  });

  it("returns { ignoreQueryPrefix: true } for parse({ ignoreQueryPrefix: true }, { allowDots: true })", () => {
    expect(parse({ ignoreQueryPrefix: true }, { allowDots: true })).toEqual({ ignoreQueryPrefix: true });
  });

  it("returns {} for parse(1, { plainObjects: true })", () => {
    expect(parse(1, { plainObjects: true })).toEqual({});
  });

  it("returns { a: { b: \"c\" } } for parse('a[b]=c', 'a]b=c')", () => {
    expect(parse('a[b]=c', 'a]b=c')).toEqual({ a: { b: "c" } });
  });

  it("returns { \"0\": 1, \"1\": 2, \"2\": 3 } for parse([1, 2, 3], false)", () => {
    expect(parse([1, 2, 3], false)).toEqual({ "0": 1, "1": 2, "2": 3 });
  });
});
