// A project's jobs: the launch form (admins) and the job list with live progress bars.

import { useEffect } from "preact/hooks";
import { api } from "../../api";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { EmptyState, ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { navigate } from "../../router";
import { isActive, modelingApi } from "./api";
import { JobRow } from "./JobRow";
import { LaunchForm } from "./LaunchForm";
import "./jobs.css";

/** How often the list refreshes while a job is queued or running. */
const POLL_MS = 1500;

export default function JobsPage(props: PageProps) {
  const id = props.params.id;
  const project = useAsync(() => api.project(id), [id]);
  const schema = useAsync(() => modelingApi.schema(), []);
  const versions = useAsync(() => modelingApi.versions(id), [id]);
  const jobs = useAsync(() => modelingApi.jobs(id), [id]);
  useTitle(project.data ? `Jobs · ${project.data.name}` : "Jobs");
  const anyActive = jobs.data?.results.some((job) => isActive(job.status)) ?? false;

  useEffect(() => {
    if (!anyActive) return;
    const timer = window.setInterval(jobs.reload, POLL_MS);
    return () => window.clearInterval(timer);
  }, [anyActive]);

  const p = project.data;
  const isAdmin = p?.my_role === "admin";
  return (
    <Layout crumbs={[{ label: p?.name ?? "…", href: `/projects/${id}` }, { label: "Jobs" }]}>
      <div class="page-header">
        <div>
          <h1>Jobs</h1>
          <p class="muted">Training, evaluation, explanations and prompt refinement run on the workers.</p>
        </div>
        <div class="actions">
          <Link class="button" href={`/projects/${id}/models`}>
            Model versions
          </Link>
        </div>
      </div>
      {project.error !== null && <ErrorMessage error={project.error} onRetry={project.reload} />}
      {isAdmin && schema.data && versions.data && p && (
        <LaunchForm
          projectId={p.id}
          schema={schema.data}
          versions={versions.data}
          onLaunched={(job) => navigate(`/jobs/${job.id}`)}
        />
      )}
      <section class="card">
        <h2>Recent jobs</h2>
        {jobs.loading && !jobs.data && <Loading />}
        {jobs.error !== null && <ErrorMessage error={jobs.error} onRetry={jobs.reload} />}
        {jobs.data?.count === 0 && <EmptyState title="No jobs yet" />}
        {jobs.data && jobs.data.count > 0 && (
          <table class="table job-list" data-testid="job-list">
            <thead>
              <tr>
                <th>Job</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Result</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {jobs.data.results.map((job) => (
                <JobRow key={job.id} job={job} />
              ))}
            </tbody>
          </table>
        )}
      </section>
    </Layout>
  );
}
