import { describe, expect, it } from "vitest";
import { formatValue, metadataRows } from "./MetadataTable";

describe("metadataRows", () => {
  it("lists curated DICOM fields first in a fixed order, then others sorted", () => {
    const rows = metadataRows({ zeta: 1, sop_instance_uid: "1.2.3", modality: "CT", alpha: "a" });
    expect(rows.map(([key]) => key)).toEqual(["Modality", "SOP instance UID", "Alpha", "Zeta"]);
  });
});

describe("formatValue", () => {
  it("joins lists, trims float noise and dashes empty values", () => {
    expect(formatValue([0.5, 0.5])).toBe("0.5 \\ 0.5");
    expect(formatValue(0.1 + 0.2)).toBe("0.3");
    expect(formatValue(null)).toBe("—");
    expect(formatValue(-1024)).toBe("-1024");
  });
});
