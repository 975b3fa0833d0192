import { describe, expect, it } from "vitest";
import stringify from "../lib/stringify.js";

describe("stringify", () => {
  it("returns \"\" for stringify(0, 0)", () => {
    expect(stringify(0, 0)).toEqual("");
  });

  it("throws for stringify(2, 2)", () => {
    expect(() => stringify(2, 2)).toThrow("Cannot use 'in' operator to search for 'indices' in 2");
  });

  it("throws for stringify(2, 1)", () => {
    expect(() => stringify(2, 1)).toThrow("Cannot use 'in' operator to search for 'indices' in 1");
  });

  it("returns \"encode=true\" for stringify({ encode: true }, { commaRoundTrip: true })", () => {
    expect(stringify({ encode: true }, { commaRoundTrip: true })).toEqual("encode=true");
  });

  it("returns \"\" for stringify('a&b=c', { charset: 'utf-8' })", () => {
    expect(stringify('a&b=c', { charset: 'utf-8' })).toEqual("");
  });

  it("returns \"\" for stringify({}, { allowDots: true })", () => {
    expect(stringify({}, { allowDots: true })).toEqual("");
  });

  it("returns \"?indices=true\" for stringify({ indices: true }, { addQueryPrefix: true })", () => {
    expect(stringify({ indices: true }, { addQueryPrefix: true })).toEqual("?indices=true");
  });

  it("returns \"allowDots=true\" for stringify({ allowDots: true }, 0)", () => {
    expect(stringify({ allowDots: true }, 0)).toEqual("allowDots=true");
  });

  it("returns \"\" for stringify(0, { allowEmptyArrays: true })", () => {
    expect(stringify(0, { allowEmptyArrays: true })).toEqual("");
  });

  it("returns \"indices=true\" for stringify({ indices: true }, { encodeValuesOnly: true })", () => {
    expect(stringify({ indices: true }, { encodeValuesOnly: true })).toEqual("indices=true");
  });

  it("returns \"\" for stringify([], {})", () => {
    expect(stringify([], {})).toEqual("");
  });

  it("returns \"\" for stringify({}, { skipNulls: true })", () => {
    expect(stringify({}, { skipNulls: true })).toEqual("");
  });

  it("returns \"\" for stringify([], { delimiter: false })", () => {
    expect(stringify([], { delimiter: false })).toEqual("");
  });

  it("returns \"\" for stringify(true, { encodeDotInKeys: true })", () => {
    expect(stringify(true, { encodeDotInKeys: true })).toEqual("");
  });

  it("returns \"\" for stringify(null, { addQueryPrefix: true })", () => {
    expect(stringify(null, { addQueryPrefix: true })).toEqual("");
  });

  it("returns \"\" for stringify('a&b', { charset: 'iso-8859-1' })", () => {
    expect(stringify('a&b', { charset: 'iso-8859-1' })).toEqual("");
  });

  it("returns \"utf8=%E2%9C%93&indices=true\" for stringify({ indices: true }, { charsetSentinel: true })", () => {
    expect(stringify({ indices: true }, { charsetSentinel: true })).toEqual("utf8=%E2%9C%93&indices=true");
  });

  it("returns \"serializeDate=true\" for stringify({ serializeDate: true }, { skipNulls: true })", () => {
    expect(stringify({ serializeDate: true }, { skipNulls: true })).toEqual("serializeDate=true");
  });

  it("returns \"\" for stringify(10, { indices: true })", () => {
    expect(stringify(10, { indices: true })).toEqual("");
  });

  it("returns \"filter=true\" for stringify({ filter: true }, 0)", () => {
    expect(stringify({ filter: true }, 0)).toEqual("filter=true");
  });

  it("throws for stringify(2, { format: true })", () => {
    expect(() => stringify(2, { format: true })).toThrow("Unknown format option provided.");
  });

  it("returns \"format=false\" for stringify({ format: false }, { indices: false })", () => {
    expect(stringify({ format: false }, { indices: false })).toEqual("format=false");
  });

  it("returns \"\" for stringify(1, { encode: true })", () => {
    expect(stringify(1, { encode: true })).toEqual("");
  });

  it("throws for stringify(1, [1, 2, 3])", () => {
    expect(() => stringify(1, [1, 2, 3])).toThrow("Array.prototype.filter called on null or undefined");
  });
});
