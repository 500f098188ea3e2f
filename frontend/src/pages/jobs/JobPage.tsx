// One job, live: progress bar, loss and metric plots, log tail, cancel, and its model version.
// Polls GET jobs/:id/progress/ every second while the job is queued or running, asking only for
// the metric points after the last one it has.

import { useEffect, useRef, useState } from "preact/hooks";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { ErrorMessage, Loading } from "../../components/Status";
import { useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import type { Job, MetricPoint } from "./api";
import { fmt, isActive, modelingApi } from "./api";
import { Chart } from "./Chart";
import { mergePoints } from "./series";
import { describeJob, ProgressBar, StatusChip } from "./JobRow";
import "./jobs.css";

const POLL_MS = 1000;
const LOSS_KEYS = ["train_loss", "train_loss_ce", "train_loss_expl", "train_loss_pred", "train_loss_param", "train_loss_feature", "train_loss_g", "val_loss"];
const METRIC_KEYS = ["train_accuracy", "val_accuracy", "val_expl_iou"];

export default function JobPage(props: PageProps) {
  const id = props.params.id;
  const [job, setJob] = useState<Job | null>(null);
  const [points, setPoints] = useState<MetricPoint[]>([]);
  const [log, setLog] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [cancelling, setCancelling] = useState(false);
  const lastStep = useRef<number | null>(null);
  useTitle(job ? describeJob(job) : "Job");

  useEffect(() => {
    let live = true;
    let timer = 0;
    lastStep.current = null;
    setPoints([]);
    const tick = async () => {
      try {
        const answer = await modelingApi.poll(id, lastStep.current);
        if (!live) return;
        setJob(answer.job);
        setLog(answer.log.lines);
        if (answer.metrics.length) {
          lastStep.current = answer.metrics[answer.metrics.length - 1].step;
          setPoints((current) => mergePoints(current, answer.metrics));
        }
        setError(null);
        if (isActive(answer.job.status)) timer = window.setTimeout(tick, POLL_MS);
      } catch (caught) {
        if (!live) return;
        setError(caught);
        timer = window.setTimeout(tick, POLL_MS * 3);
      }
    };
    tick();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [id]);

  const cancel = async () => {
    if (!job) return;
    setCancelling(true);
    try {
      setJob(await modelingApi.cancel(job.id));
    } catch (caught) {
      setError(caught);
    } finally {
      setCancelling(false);
    }
  };

  if (!job) {
    return (
      <Layout crumbs={[{ label: "Job" }]}>
        {error !== null ? <ErrorMessage error={error} /> : <Loading />}
      </Layout>
    );
  }
  const metrics = (job.result.metrics ?? null) as Record<string, Record<string, unknown>> | null;
  return (
    <Layout crumbs={[{ label: "Project", href: `/projects/${job.project}` }, { label: "Jobs", href: `/projects/${job.project}/jobs` }, { label: `#${job.id}` }]}>
      <div class="page-header">
        <div>
          <h1>
            {describeJob(job)} <StatusChip status={job.status} />
          </h1>
          <p class="muted">
            {job.worker.host ? `on ${job.worker.host} (${job.worker.device || "?"}), attempt ${job.attempts}` : "waiting for a worker"}
            {job.checkpoint_epoch ? ` · checkpoint after epoch ${job.checkpoint_epoch}` : ""}
          </p>
        </div>
        <div class="actions">
          {isActive(job.status) && (
            <button type="button" class="button" onClick={cancel} disabled={cancelling || job.cancel_requested}>
              {job.cancel_requested ? "Cancelling…" : "Cancel"}
            </button>
          )}
          {job.produced_version && (
            <Link class="button button-primary" href={`/projects/${job.project}/models?version=${job.produced_version.id}`} data-testid="version-link">
              Model version {job.produced_version.number}
            </Link>
          )}
        </div>
      </div>
      {error !== null && <ErrorMessage error={error} />}
      <section class="card">
        <ProgressBar job={job} />
        <p data-testid="job-message">{job.progress.message}</p>
        {!job.enqueued && job.enqueue_error && <p class="alert alert-warning">{job.enqueue_error}</p>}
        {job.error_message && <p class="alert alert-error">{job.error_message}</p>}
      </section>
      <section class="card">
        <h2>Loss and metrics</h2>
        <div class="charts">
          <Chart title="Loss terms" points={points} keys={LOSS_KEYS} testId="loss-chart" />
          <Chart title="Accuracy and explanation IoU" points={points} keys={METRIC_KEYS} testId="metric-chart" />
        </div>
      </section>
      {metrics && (
        <section class="card" data-testid="job-metrics">
          <h2>Metrics of the selected epoch</h2>
          <table class="table metrics-table">
            <thead>
              <tr>
                <th>split</th>
                {["accuracy", "precision", "recall", "f1", "auc", "expl_iou", "epg", "pointing_game"].map((k) => (
                  <th class="num" key={k}>
                    {k}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Object.entries(metrics).map(([split, values]) => (
                <tr key={split}>
                  <td>{split}</td>
                  {["accuracy", "precision", "recall", "f1", "auc", "expl_iou", "epg", "pointing_game"].map((k) => (
                    <td class="num" key={k}>
                      {fmt(values?.[k])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <section class="card">
        <h2>Log</h2>
        <pre class="log-tail" data-testid="job-log">{log.join("\n") || "No output yet."}</pre>
        <details>
          <summary>Parameters</summary>
          <pre class="mono">{JSON.stringify(job.parameters, null, 2)}</pre>
        </details>
      </section>
    </Layout>
  );
}
