import type { ImageDetail } from "../../types";

const DICOM_LABELS: Record<string, string> = {
  modality: "Modality",
  photometric_interpretation: "Photometric interpretation",
  bits_stored: "Bits stored",
  rescale_slope: "Rescale slope",
  rescale_intercept: "Rescale intercept",
  window_center: "Window centre (file)",
  window_width: "Window width (file)",
  pixel_spacing: "Pixel spacing (mm)",
  number_of_frames: "Number of frames",
  transfer_syntax_uid: "Transfer syntax UID",
  study_instance_uid: "Study instance UID",
  series_instance_uid: "Series instance UID",
  sop_instance_uid: "SOP instance UID",
};

/** Formats a metadata value for display; lists are joined, empty values are a dash. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.map(formatValue).join(" \\ ");
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : String(+value.toFixed(6));
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** "rescale_slope" -> "Rescale slope" for keys without a curated label. */
export function humanise(key: string): string {
  const text = key.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Rows of the metadata: curated DICOM keys first in a fixed order, then any others. */
export function metadataRows(metadata: Record<string, unknown>): Array<[string, string]> {
  const keys = Object.keys(metadata);
  const known = Object.keys(DICOM_LABELS).filter((key) => keys.includes(key));
  const others = keys.filter((key) => !(key in DICOM_LABELS)).sort();
  return [...known, ...others].map((key) => [
    DICOM_LABELS[key] ?? humanise(key),
    formatValue(metadata[key]),
  ]);
}

export function MetadataTable(props: { image: ImageDetail }) {
  const image = props.image;
  const rows: Array<[string, string]> = [
    ["Format", image.format.toUpperCase()],
    ["Size", `${image.width} × ${image.height} px`],
  ];
  if (image.frame_index !== null) rows.push(["Frame", String(image.frame_index)]);
  if (image.is_dicom) {
    rows.push([
      "Display window",
      `centre ${formatValue(image.window_center)}, width ${formatValue(image.window_width)}`,
    ]);
  }
  rows.push(["Uploaded", new Date(image.created_at).toLocaleString()]);
  rows.push(["SHA-256", image.checksum]);
  const extra = metadataRows(image.metadata ?? {});
  const extraTitle = image.is_dicom ? "DICOM" : "File metadata";

  return (
    <div class="metadata">
      <table class="table kv" aria-label="Image metadata" data-testid="image-metadata">
        <tbody>
          {rows.map(([key, value]) => (
            <tr key={key}>
              <th scope="row">{key}</th>
              <td class={key === "SHA-256" ? "mono wrap" : undefined}>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {extra.length > 0 && (
        <>
          <h3>{extraTitle}</h3>
          <table class="table kv" aria-label={extraTitle} data-testid="dicom-metadata">
            <tbody>
              {extra.map(([key, value]) => (
                <tr key={key}>
                  <th scope="row">{key}</th>
                  <td class={key.endsWith("UID") ? "mono wrap" : undefined}>{value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}
