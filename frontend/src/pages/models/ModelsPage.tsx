// The model registry of a project: a metrics table across versions (as the papers' Table 1),
// activating a version (switching back is the same button), comparing two versions, and the
// selected version's details with links to compare predictions on its test images.

import { useMemo, useState } from "preact/hooks";
import { api } from "../../api";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { EmptyState, ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { setQuery } from "../../router";
import type { Comparison, ModelVersion } from "../jobs/api";
import { fmt, modelingApi } from "../jobs/api";
import { Chart } from "../jobs/Chart";
import "../jobs/jobs.css";

const COLUMNS: { key: string; label: string }[] = [
  { key: "accuracy", label: "Acc." },
  { key: "precision", label: "Prec." },
  { key: "recall", label: "Rec." },
  { key: "f1", label: "F1" },
  { key: "auc", label: "AUC" },
  { key: "expl_iou", label: "IoU" },
  { key: "epg", label: "EPG" },
  { key: "pointing_game", label: "Point." },
];

function metric(version: ModelVersion, split: string, key: string): number | null {
  const value = (version.metrics?.[split] as Record<string, unknown> | undefined)?.[key];
  return typeof value === "number" ? value : null;
}

export default function ModelsPage(props: PageProps) {
  const id = props.params.id;
  const selectedId = Number(props.query.get("version")) || null;
  const split = props.query.get("split") || "test";
  const project = useAsync(() => api.project(id), [id]);
  const versions = useAsync(() => modelingApi.versions(id), [id]);
  const [picked, setPicked] = useState<number[]>([]);
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const [error, setError] = useState<unknown>(null);
  useTitle(project.data ? `Models · ${project.data.name}` : "Models");

  const best = useMemo(() => {
    const out: Record<string, number> = {};
    for (const column of COLUMNS) {
      const values = (versions.data ?? []).map((v) => metric(v, split, column.key)).filter((v): v is number => v !== null);
      if (values.length) out[column.key] = Math.max(...values);
    }
    return out;
  }, [versions.data, split]);

  const activate = async (version: ModelVersion) => {
    try {
      await modelingApi.activate(version.id);
      versions.reload();
    } catch (caught) {
      setError(caught);
    }
  };
  const toggle = (versionId: number) =>
    setPicked((current) => (current.includes(versionId) ? current.filter((v) => v !== versionId) : [...current, versionId].slice(-2)));
  const compare = async () => {
    try {
      setComparison(await modelingApi.compare(picked[0], picked[1]));
    } catch (caught) {
      setError(caught);
    }
  };

  const p = project.data;
  const isAdmin = p?.my_role === "admin";
  const selected = versions.data?.find((v) => v.id === selectedId) ?? null;
  return (
    <Layout crumbs={[{ label: p?.name ?? "…", href: `/projects/${id}` }, { label: "Model versions" }]}>
      <div class="page-header">
        <div>
          <h1>Model versions</h1>
          <p class="muted">Metrics on the {split} split; the best value of each column is in bold.</p>
        </div>
        <div class="actions">
          <select aria-label="Split" value={split} onChange={(e) => setQuery({ split: (e.target as HTMLSelectElement).value })}>
            <option value="test">test</option>
            <option value="val">val</option>
            <option value="test_prompted">test with prompts (VAPL-P)</option>
          </select>
          <Link class="button" href={`/projects/${id}/jobs`}>
            Jobs
          </Link>
        </div>
      </div>
      {error !== null && <ErrorMessage error={error} />}
      <section class="card">
        {versions.loading && !versions.data && <Loading />}
        {versions.error !== null && <ErrorMessage error={versions.error} onRetry={versions.reload} />}
        {versions.data?.length === 0 && <EmptyState title="No model versions yet">Launch a training job on the jobs page.</EmptyState>}
        {versions.data && versions.data.length > 0 && (
          <table class="table metrics-table" data-testid="versions-table">
            <thead>
              <tr>
                <th />
                <th>Version</th>
                <th>Method</th>
                {COLUMNS.map((c) => (
                  <th class="num" key={c.key}>
                    {c.label}
                  </th>
                ))}
                <th />
              </tr>
            </thead>
            <tbody>
              {versions.data.map((v) => (
                <tr key={v.id} data-testid={`version-row-${v.number}`}>
                  <td>
                    <input type="checkbox" aria-label={`Compare version ${v.number}`} checked={picked.includes(v.id)} onChange={() => toggle(v.id)} />
                  </td>
                  <td>
                    <Link href={`/projects/${id}/models?version=${v.id}&split=${split}`}>version {v.number}</Link>{" "}
                    {v.is_active && <span class="chip chip-positive">active</span>}
                  </td>
                  <td>
                    {v.method} <span class="muted">{v.architecture}</span>
                  </td>
                  {COLUMNS.map((c) => {
                    const value = metric(v, split, c.key);
                    return (
                      <td class={value !== null && value === best[c.key] ? "num best" : "num"} key={c.key}>
                        {fmt(value)}
                      </td>
                    );
                  })}
                  <td>
                    {isAdmin && !v.is_active && (
                      <button type="button" class="button button-small" onClick={() => activate(v)}>
                        Activate
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <div class="form-actions">
          <button type="button" class="button" disabled={picked.length !== 2} onClick={compare}>
            Compare the two checked versions
          </button>
        </div>
      </section>
      {comparison && <ComparisonView comparison={comparison} />}
      {selected && <VersionDetail version={selected} projectId={id} />}
    </Layout>
  );
}

function ComparisonView(props: { comparison: Comparison }) {
  const { a, b, metrics, hyperparameters } = props.comparison;
  return (
    <section class="card" data-testid="comparison">
      <h2>
        Version {a.number} ({a.method}) vs version {b.number} ({b.method})
      </h2>
      <table class="table metrics-table">
        <thead>
          <tr>
            <th>split</th>
            <th>metric</th>
            <th class="num">v{a.number}</th>
            <th class="num">v{b.number}</th>
            <th class="num">change</th>
          </tr>
        </thead>
        <tbody>
          {metrics
            .filter((row) => typeof row.a === "number" || typeof row.b === "number")
            .map((row) => (
              <tr key={`${row.split}-${row.metric}`}>
                <td>{row.split}</td>
                <td>{row.metric}</td>
                <td class="num">{fmt(row.a)}</td>
                <td class="num">{fmt(row.b)}</td>
                <td class={`num ${row.delta !== null && row.delta > 0 ? "delta-up" : row.delta !== null && row.delta < 0 ? "delta-down" : ""}`}>
                  {row.delta === null ? "–" : `${row.delta > 0 ? "+" : ""}${row.delta.toFixed(3)}`}
                </td>
              </tr>
            ))}
        </tbody>
      </table>
      {hyperparameters.length > 0 && (
        <>
          <h3>Settings that differ</h3>
          <ul class="plain-list">
            {hyperparameters.map((row) => (
              <li key={row.name}>
                <span class="mono">{row.name}</span>: {JSON.stringify(row.a)} → {JSON.stringify(row.b)}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function VersionDetail(props: { version: ModelVersion; projectId: string }) {
  const { version } = props;
  const detail = useAsync(() => modelingApi.version(version.id), [version.id]);
  const images = useAsync(() => api.images(props.projectId, { split: "test", page_size: 12 }), [props.projectId]);
  const history = ((detail.data as unknown as { history?: Record<string, number>[] })?.history ?? []).map((values, index) => ({
    step: Number(values.epoch ?? index + 1),
    epoch: Number(values.epoch ?? index + 1),
    values,
    created_at: "",
  }));
  return (
    <section class="card" data-testid="version-detail">
      <h2>
        Version {version.number}: {version.method} ({version.architecture})
      </h2>
      <div class="charts">
        <Chart title="Training history" points={history} keys={["train_loss", "val_loss", "val_accuracy", "val_expl_iou"]} />
        <div>
          <h3>Hyperparameters</h3>
          <pre class="mono">{JSON.stringify(version.hyperparameters, null, 2)}</pre>
        </div>
      </div>
      <h3>Compare predictions on a test image</h3>
      {images.data?.results.length === 0 && <p class="muted">The project has no test images.</p>}
      <ul class="plain-list">
        {images.data?.results.map((image) => (
          <li key={image.id}>
            <Link href={`/images/${image.id}/compare?version=${version.id}`}>{image.name}</Link>
          </li>
        ))}
      </ul>
      <p>
        <a href={version.checkpoint_url}>Download the checkpoint</a> <span class="muted">({Math.round(version.checkpoint_bytes / 1e6)} MB, safetensors)</span>
      </p>
    </section>
  );
}
