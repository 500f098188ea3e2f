// A project's rating studies: the ones the caller rates in or administers, and (admins) a new one.

import { useState } from "preact/hooks";
import { api } from "../../api";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { EmptyState, ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { navigate } from "../../router";
import { reviewApi } from "../review/api";
import { StudyForm } from "./StudyForm";
import "../review/review.css";

export default function StudiesPage(props: PageProps) {
  const id = props.params.id;
  const project = useAsync(() => api.project(id), [id]);
  const studies = useAsync(() => reviewApi.studies(id), [id]);
  const [creating, setCreating] = useState(false);
  useTitle(project.data ? `Studies · ${project.data.name}` : "Studies");
  const p = project.data;
  const isAdmin = p?.my_role === "admin";
  return (
    <Layout crumbs={[{ label: p?.name ?? "…", href: `/projects/${id}/review` }, { label: "Rating studies" }]}>
      <div class="page-header">
        <div>
          <h1>Rating studies</h1>
          <p class="muted">Blind human evaluation of attention maps: conditions in a random, recorded order.</p>
        </div>
        {isAdmin && (
          <div class="actions">
            <button type="button" class="button button-primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>
              New study
            </button>
          </div>
        )}
      </div>
      {creating && (
        <StudyForm projectId={id} onCancel={() => setCreating(false)} onCreated={(study) => navigate(`/studies/${study.id}`)} />
      )}
      {studies.loading && !studies.data && <Loading />}
      {studies.error !== null && <ErrorMessage error={studies.error} onRetry={studies.reload} />}
      {studies.data?.length === 0 && <EmptyState title="No studies for you here" />}
      {studies.data && studies.data.length > 0 && (
        <table class="table card" data-testid="study-table">
          <thead>
            <tr>
              <th>Study</th>
              <th>Status</th>
              <th>Images × maps</th>
              <th>Your ratings</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {studies.data.map((s) => (
              <tr key={s.id}>
                <td>
                  <Link href={`/studies/${s.id}`}>{s.name}</Link>
                </td>
                <td>{s.status}</td>
                <td>
                  {s.image_count} × {s.condition_count}
                </td>
                <td>{s.is_participant ? `${s.my_progress.done} / ${s.my_progress.total}` : "–"}</td>
                <td>{s.my_role === "admin" && <Link href={`/studies/${s.id}/report`}>Report</Link>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
