// One job in a list, and the small pieces shared with the job page (status chip, progress bar).

import { Link } from "../../components/Link";
import type { Job, JobStatus } from "./api";

export function StatusChip(props: { status: JobStatus }) {
  return (
    <span class={`chip status-${props.status}`} data-testid="job-status">
      {props.status}
    </span>
  );
}

export function ProgressBar(props: { job: Job }) {
  const percent = Math.round(props.job.progress.fraction * 100);
  return (
    <div class="job-progress">
      <div
        class="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={percent}
        aria-label={`Job ${props.job.id} progress`}
        data-testid="job-progress"
      >
        <span style={{ width: `${percent}%` }} />
      </div>
      <span class="mono">{percent}%</span>
    </div>
  );
}

export function describeJob(job: Job): string {
  const method = typeof job.parameters.method === "string" ? ` ${job.parameters.method}` : "";
  const version = job.model_version ? ` of version ${job.model_version.number}` : "";
  return `#${job.id} ${job.kind}${method}${version}`;
}

export function JobRow(props: { job: Job }) {
  const { job } = props;
  return (
    <tr>
      <td>
        <Link href={`/jobs/${job.id}`}>{describeJob(job)}</Link>
      </td>
      <td>
        <StatusChip status={job.status} />
        {!job.enqueued && job.status === "queued" && job.enqueue_error && (
          <div class="muted" title={job.enqueue_error}>
            waiting for the broker
          </div>
        )}
      </td>
      <td>
        <ProgressBar job={job} />
        <div class="muted">{job.progress.message}</div>
      </td>
      <td>
        {job.produced_version ? (
          <Link href={`/projects/${job.project}/models?version=${job.produced_version.id}`}>
            version {job.produced_version.number}
          </Link>
        ) : job.error_message ? (
          <span class="muted">{job.error_message}</span>
        ) : (
          ""
        )}
      </td>
      <td class="muted">{job.started_at ? new Date(job.started_at).toLocaleString() : "not yet"}</td>
    </tr>
  );
}
