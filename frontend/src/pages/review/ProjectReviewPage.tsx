// A project's review hub: its model versions (review and matrix), selections and rating studies.

import { api } from "../../api";
import { RoleBadge } from "../../components/Badges";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { EmptyState, ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { reviewApi } from "./api";
import "./review.css";

export default function ProjectReviewPage(props: PageProps) {
  const id = props.params.id;
  const project = useAsync(() => api.project(id), [id]);
  const versions = useAsync(() => reviewApi.versions(id), [id]);
  const studies = useAsync(() => reviewApi.studies(id), [id]);
  useTitle(project.data ? `Review · ${project.data.name}` : "Review");
  const p = project.data;
  if (project.error) {
    return (
      <Layout crumbs={[{ label: "Review" }]}>
        <ErrorMessage error={project.error} onRetry={project.reload} />
      </Layout>
    );
  }
  return (
    <Layout crumbs={[{ label: p?.name ?? "…", href: `/projects/${id}` }, { label: "Review" }]}>
      <div class="page-header">
        <div>
          <h1>
            Review and studies {p && <RoleBadge role={p.my_role} />}
          </h1>
          <p class="muted">Assess the attention maps of a model version, select images by rules, run blind rating studies.</p>
        </div>
        <div class="actions">
          <Link class="button" href={`/projects/${id}/selections`}>
            Selections
          </Link>
          <Link class="button" href={`/projects/${id}/studies`}>
            Rating studies
          </Link>
        </div>
      </div>
      <section class="card">
        <h2>Model versions</h2>
        {versions.loading && !versions.data && <Loading />}
        {versions.error !== null && <ErrorMessage error={versions.error} onRetry={versions.reload} />}
        {versions.data?.length === 0 && <EmptyState title="No model versions yet" />}
        {versions.data && versions.data.length > 0 && (
          <table class="table" data-testid="version-table">
            <thead>
              <tr>
                <th>Version</th>
                <th>Method</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {versions.data.map((v) => (
                <tr key={v.id}>
                  <td>
                    version {v.number} {v.is_active && <span class="chip chip-positive">active</span>}
                  </td>
                  <td>{v.method}</td>
                  <td class="answer-buttons">
                    <Link class="button button-small button-primary" href={`/model-versions/${v.id}/review`}>
                      Review version {v.number}
                    </Link>
                    <Link class="button button-small" href={`/model-versions/${v.id}/matrix`}>
                      Matrix
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card">
        <h2>Your rating studies</h2>
        {studies.data?.length === 0 && <p class="muted">No study to show.</p>}
        <ul class="plain-list">
          {studies.data?.map((study) => (
            <li key={study.id}>
              <Link href={`/studies/${study.id}`}>{study.name}</Link>{" "}
              <span class="muted">
                {study.status} · {study.my_progress.done}/{study.my_progress.total} of your ratings
              </span>
            </li>
          ))}
        </ul>
      </section>
    </Layout>
  );
}
