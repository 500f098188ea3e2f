import { describe, expect, it } from "vitest";
import type { MetricPoint, Param } from "./api";
import { initialValues, toParameters } from "./LaunchForm";
import { chartData, mergePoints } from "./series";

const param = (over: Partial<Param>): Param => ({
  name: "x",
  type: "int",
  default: null,
  minimum: null,
  maximum: null,
  choices: [],
  methods: [],
  nullable: false,
  help: "",
  group: "general",
  ...over,
});

const point = (step: number, values: MetricPoint["values"]): MetricPoint => ({ step, epoch: step, values, created_at: "" });

describe("launch form values", () => {
  const params = [
    param({ name: "method", type: "choice", default: "baseline", choices: ["baseline", "vapl"] }),
    param({ name: "epochs", type: "int", default: 30 }),
    param({ name: "patience", type: "int", default: 5, nullable: true }),
    param({ name: "n_masks", type: "int", default: 5000, methods: ["vapl"] }),
    param({ name: "augment_flip", type: "bool", default: false }),
  ];

  it("applies overrides over the defaults", () => {
    const values = initialValues(params, { epochs: 2 });
    expect(values.epochs).toBe("2");
    expect(values.augment_flip).toBe(false);
  });

  it("converts fields to typed parameters and leaves out other methods' fields", () => {
    const values = { ...initialValues(params, {}), patience: "", epochs: "3" };
    expect(toParameters(params, values, "baseline")).toEqual({
      method: "baseline",
      epochs: 3,
      patience: null,
      augment_flip: false,
    });
    expect(toParameters(params, values, "vapl").n_masks).toBe(5000);
  });
});

describe("metric series", () => {
  it("puts gaps where a point lacks a value", () => {
    const data = chartData([point(1, { a: 1 }), point(2, { a: null, b: 2 })], ["a", "b"]);
    expect(data).toEqual([[1, 2], [1, null], [null, 2]]);
  });

  it("replaces a step sent again by a resumed job", () => {
    const merged = mergePoints([point(1, { a: 1 }), point(2, { a: 2 })], [point(2, { a: 5 }), point(3, { a: 3 })]);
    expect(merged.map((p) => p.values.a)).toEqual([1, 5, 3]);
  });
});
