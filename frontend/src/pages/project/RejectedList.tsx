import type { Rejection } from "../../types";

/** A table of files the server refused, each with its reason. */
export function RejectedList(props: { rejected: Rejection[] }) {
  if (props.rejected.length === 0) return null;
  return (
    <table class="table rejected" aria-label="Rejected files">
      <thead>
        <tr>
          <th scope="col">Rejected file</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {props.rejected.map((item, index) => (
          <tr key={index}>
            <td class="mono">{item.file}</td>
            <td>{item.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
