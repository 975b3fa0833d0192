import { describe, expect, it } from "vitest";
import stringify from "../lib/stringify.js";

describe("stringify", () => {
  it("returns \"\" for stringify(null, null)", () => {
    expect(stringify(null, null)).toEqual("");
  });

  it("returns \"\" for stringify(0, 0)", () => {
    expect(stringify(0, 0)).toEqual("");
  });

  it("throws for stringify(2, 2)", () => {
    expect(() => stringify(2, 2)).toThrow("Cannot use 'in' operator to search for 'indices' in 2");
  });

  it("returns \"?filter=true\" for stringify({ filter: true }, { addQueryPrefix: true })", () => {
    expect(stringify({ filter: true }, { addQueryPrefix: true })).toEqual("?filter=true");
  });

  it("returns \"\" for stringify(10, { charset: 'iso-8859-1' })", () => {
    expect(stringify(10, { charset: 'iso-8859-1' })).toEqual("");
  });

  it("returns \"\" for stringify({}, { encoder: null })", () => {
    expect(stringify({}, { encoder: null })).toEqual("");
  });

  it("returns \"\" for stringify(0, { indices: true })", () => {
    expect(stringify(0, { indices: true })).toEqual("");
  });

  it("returns \"encode=true\" for stringify({ encode: true }, 0)", () => {
    expect(stringify({ encode: true }, 0)).toEqual("encode=true");
  });

  it("throws for stringify(false, [])", () => {
    expect(() => stringify(false, [])).toThrow("Array.prototype.filter called on null or undefined");
  });

  it("returns \"\" for stringify([], { commaRoundTrip: true })", () => {
    expect(stringify([], { commaRoundTrip: true })).toEqual("");
  });

  it("returns \"\" for stringify({}, { encodeValuesOnly: true })", () => {
    expect(stringify({}, { encodeValuesOnly: true })).toEqual("");
  });

  it("returns \"encoder=\" for stringify({ encoder: null }, 0)", () => {
    expect(stringify({ encoder: null }, 0)).toEqual("encoder=");
  });

  it("returns \"\" for stringify(2, { encodeDotInKeys: true })", () => {
    expect(stringify(2, { encodeDotInKeys: true })).toEqual("");
  });

  it("returns \"delimiter=false\" for stringify({ delimiter: false }, { skipNulls: true })", () => {
    expect(stringify({ delimiter: false }, { skipNulls: true })).toEqual("delimiter=false");
  });

  it("returns \"\" for stringify(2, { delimiter: true })", () => {
    expect(stringify(2, { delimiter: true })).toEqual("");
  });

  it("returns \"\" for stringify('a=b,c', { charset: 'utf-8' })", () => {
    expect(stringify('a=b,c', { charset: 'utf-8' })).toEqual("");
  });

  it("returns \"format=true\" for stringify({ format: true }, { encode: true })", () => {
    expect(stringify({ format: true }, { encode: true })).toEqual("format=true");
  });

  it("returns \"0=1&1=2&2=3\" for stringify([1, 2, 3], { encodeValuesOnly: true })", () => {
    expect(stringify([1, 2, 3], { encodeValuesOnly: true })).toEqual("0=1&1=2&2=3");
  });

  it("returns \"commaRoundTrip=true\" for stringify({ commaRoundTrip: true }, { encode: false })", () => {
    expect(stringify({ commaRoundTrip: true }, { encode: false })).toEqual("commaRoundTrip=true");
  });

  it("returns \"\" for stringify(undefined, { indices: false })", () => {
    expect(stringify(undefined, { indices: false })).toEqual("");
  });

  it("returns \"\" for stringify({}, { charsetSentinel: true })", () => {
    expect(stringify({}, { charsetSentinel: true })).toEqual("");
  });

  it("throws for stringify(0.5, { format: true })", () => {
    expect(() => stringify(0.5, { format: true })).toThrow("Unknown format option provided.");
  });

  it("returns \"\" for stringify(0, { allowEmptyArrays: false })", () => {
    expect(stringify(0, { allowEmptyArrays: false })).toEqual("");
  });

  it("returns \"\" for stringify(0, { allowDots: true })", () => {
    expect(stringify(0, { allowDots: true })).toEqual("");
  });
});
