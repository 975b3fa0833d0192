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

  it("returns { \"0\": 1, \"1\": 2, \"2\": 3 } for parse([1, 2, 3], { plainObjects: true })", () => {
    expect(parse([1, 2, 3], { plainObjects: true })).toEqual({ "0": 1, "1": 2, "2": 3 });
  });

  it("returns {} for parse(false, { allowPrototypes: true })", () => {
    expect(parse(false, { allowPrototypes: true })).toEqual({});
  });

  it("returns { a: { b: \"\" } } for parse('a[b]c', 'a')", () => {
    expect(parse('a[b]c', 'a')).toEqual({ a: { b: "" } });
  });

  it("returns {} for parse(1, { comma: true })", () => {
    expect(parse(1, { comma: true })).toEqual({});
  });

  it("returns { \"a]\": \"b\" } for parse('a]=b', 'a,b')", () => {
    expect(parse('a]=b', 'a,b')).toEqual({ "a]": "b" });
  });

  it("returns { depth: false } for parse({ depth: false }, { depth: false })", () => {
    expect(parse({ depth: false }, { depth: false })).toEqual({ depth: false });
  });

  it("returns {} for parse({}, { charsetSentinel: true })", () => {
    expect(parse({}, { charsetSentinel: true })).toEqual({});
  });

  it("returns {} for parse({}, { allowEmptyArrays: false })", () => {
    expect(parse({}, { allowEmptyArrays: false })).toEqual({});
  });

  it("returns {} for parse(undefined, { decodeDotInKeys: true })", () => {
    expect(parse(undefined, { decodeDotInKeys: true })).toEqual({});
  });

  it("returns { \"0\": 1, \"1\": 2, \"2\": 3 } for parse([1, 2, 3], { arrayLimit: true })", () => {
    expect(parse([1, 2, 3], { arrayLimit: true })).toEqual({ "0": 1, "1": 2, "2": 3 });
  });

  it("returns { string: \"\" } for parse('string', { charset: 'iso-8859-1' })", () => {
    expect(parse('string', { charset: 'iso-8859-1' })).toEqual({ string: "" });
  });

  it("returns { \"a,b\": \"\" } for parse('a,b', { duplicates: 'last' })", () => {
    expect(parse('a,b', { duplicates: 'last' })).toEqual({ "a,b": "" });
  });

  it("returns { delimiter: true } for parse({ delimiter: true }, { allowDots: true })", () => {
    expect(parse({ delimiter: true }, { allowDots: true })).toEqual({ delimiter: true });
  });

  it("returns { \"0\": 1, \"1\": 2, \"2\": 3 } for parse([1, 2, 3], { strictNullHandling: false })", () => {
    expect(parse([1, 2, 3], { strictNullHandling: false })).toEqual({ "0": 1, "1": 2, "2": 3 });
  });

  it("returns { strictNullHandling: true } for parse({ strictNullHandling: true }, { parseArrays: false })", () => {
    expect(parse({ strictNullHandling: true }, { parseArrays: false })).toEqual({ strictNullHandling: true });
  });

  it("returns { \"0\": 1, \"1\": 2, \"2\": 3 } for parse([1, 2, 3], { allowDots: false })", () => {
    expect(parse([1, 2, 3], { allowDots: false })).toEqual({ "0": 1, "1": 2, "2": 3 });
  });

  it("returns { depth: false } for parse({ depth: false }, 0)", () => {
    expect(parse({ depth: false }, 0)).toEqual({ depth: false });
  });

  it("returns { \"a,b\": \"\" } for parse('a,b', { charset: 'utf-8' })", () => {
    expect(parse('a,b', { charset: 'utf-8' })).toEqual({ "a,b": "" });
  });

  it("returns { delimiter: true } for parse({ delimiter: true }, { decodeDotInKeys: true })", () => {
    expect(parse({ delimiter: true }, { decodeDotInKeys: true })).toEqual({ delimiter: true });
  });

  it("returns { a: \"\" } for parse('a', 'a')", () => {
    expect(parse('a', 'a')).toEqual({ a: "" });
  });

  it("returns {} for parse({}, { interpretNumericEntities: true })", () => {
    expect(parse({}, { interpretNumericEntities: true })).toEqual({});
  });
});
