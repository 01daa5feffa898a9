// CSV cells: quoting, and text that a spreadsheet would run as a formula.
import { describe, expect, test } from "vitest";
import { csvCell, csvText } from "../src/dom.js";

describe("csvCell", () => {
  test("quotes commas, quotes and line breaks only", () => {
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('a, "b"')).toBe('"a, ""b"""');
    expect(csvCell("x\ny")).toBe('"x\ny"');
    expect(csvCell(null)).toBe("");
  });
});

describe("csvText", () => {
  test.each([
    ["=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\""],
    ["+1", "'+1"],
    ["-cmd", "'-cmd"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\tx", "'\tx"],
  ])("%j opens as text", (value, expected) => {
    expect(csvText(value)).toBe(expected);
  });

  test("leaves other text alone", () => {
    expect(csvText("adam")).toBe("adam");
    expect(csvText("a=b")).toBe("a=b");
    expect(csvText(undefined)).toBe("");
  });
});
