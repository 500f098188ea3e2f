import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../api";
import { RoleBadge } from "../components/Badges";
import { Layout } from "../components/Layout";
import { Link } from "../components/Link";
import { Pagination } from "../components/Pagination";
import { EmptyState, ErrorMessage, Loading } from "../components/Status";
import type { GridState } from "../filters";
import { apiFilters, gridQuery, gridSearch, isFiltered, parseGridState } from "../filters";
import { useAsync, useTitle } from "../hooks";
import type { PageProps } from "../router";
import { setQuery } from "../router";
import { GridFilters } from "./project/GridFilters";
import { ImageGrid } from "./project/ImageGrid";
import { ImportForm } from "./project/ImportForm";
import { UploadForm } from "./project/UploadForm";

type Panel = "upload" | "import" | null;

export function ProjectPage(props: PageProps) {
  const id = props.params.id;
  const project = useAsync(() => api.project(id), [id]);
  useTitle(project.data?.name ?? "Project");
  const state = parseGridState(props.query);
  const search = gridSearch(state);
  const images = useAsync((signal) => api.images(id, apiFilters(state), signal), [id, search]);
  const [panel, setPanel] = useState<Panel>(null);

  // A page number past the end (after a filter or a deletion) falls back to the first page.
  useEffect(() => {
    if (images.error instanceof ApiError && images.error.status === 404 && state.page > 1) {
      setQuery({ page: undefined }, { replace: true });
    }
  }, [images.error]);

  const change = (next: Partial<GridState>, replace = false) =>
    setQuery(gridQuery({ ...state, ...next }), { replace });

  const refresh = () => {
    images.reload();
    project.reload();
  };

  if (project.error && !project.data) {
    return (
      <Layout crumbs={[{ label: "Project" }]}>
        <ErrorMessage
          error={project.error}
          onRetry={project.reload}
          title="This project could not be loaded."
        />
        <p>
          <Link href="/">Back to your projects</Link>
        </p>
      </Layout>
    );
  }
  if (!project.data) {
    return (
      <Layout crumbs={[{ label: "…" }]}>
        <Loading label="Loading project…" />
      </Layout>
    );
  }

  const p = project.data;
  const isAdmin = p.my_role === "admin";
  const togglePanel = (which: Panel) => setPanel(panel === which ? null : which);

  return (
    <Layout crumbs={[{ label: p.name }]}>
      <div class="page-header">
        <div>
          <h1>
            {p.name} <RoleBadge role={p.my_role} />
          </h1>
          <p class="muted">
            {p.image_count} image{p.image_count === 1 ? "" : "s"} · {p.prompted_image_count} with
            prompts · classes {p.class_names.join(", ")}
          </p>
          {p.description && <p class="project-description">{p.description}</p>}
          <nav class="actions" aria-label="Models, jobs and review">
            <Link class="button button-small" href={`/projects/${p.id}/jobs`}>
              Jobs
            </Link>
            <Link class="button button-small" href={`/projects/${p.id}/models`}>
              Model versions
            </Link>
            <Link class="button button-small" href={`/projects/${p.id}/review`}>
              Review
            </Link>
            <Link class="button button-small" href={`/projects/${p.id}/selections`}>
              Selections
            </Link>
            <Link class="button button-small" href={`/projects/${p.id}/studies`}>
              Studies
            </Link>
          </nav>
        </div>
        {isAdmin && (
          <div class="actions">
            <button
              type="button"
              class={panel === "upload" ? "button button-primary" : "button"}
              aria-expanded={panel === "upload"}
              onClick={() => togglePanel("upload")}
            >
              Upload images
            </button>
            <button
              type="button"
              class={panel === "import" ? "button button-primary" : "button"}
              aria-expanded={panel === "import"}
              onClick={() => togglePanel("import")}
            >
              Import .zip
            </button>
            <a class="button" href={api.exportUrl(p.id)} download>
              Export .zip
            </a>
          </div>
        )}
      </div>

      {panel === "upload" && <UploadForm project={p} onUploaded={refresh} />}
      {panel === "import" && <ImportForm project={p} onImported={refresh} />}

      <GridFilters state={state} classNames={p.class_names} onChange={change} />

      <section aria-label="Image list" aria-busy={images.loading} class="grid-section">
        {images.error !== null &&
          !(images.error instanceof ApiError && images.error.status === 404 && state.page > 1) && (
            <ErrorMessage
              error={images.error}
              onRetry={images.reload}
              title="The images could not be loaded."
            />
          )}
        {images.loading && !images.data && <Loading label="Loading images…" />}
        {images.data && images.data.count === 0 && (
          <EmptyState title={isFiltered(state) ? "No images match these filters" : "No images yet"}>
            {!isFiltered(state) && isAdmin && (
              <p class="muted">Upload images or import an archive to get started.</p>
            )}
          </EmptyState>
        )}
        {images.data && images.data.count > 0 && (
          <div class={images.loading ? "stale" : undefined}>
            <ImageGrid
              images={images.data.results}
              classNames={p.class_names}
              linkSearch={search}
            />
            <Pagination
              page={state.page}
              pageSize={state.pageSize}
              count={images.data.count}
              onPage={(page) => change({ page })}
              onPageSize={(pageSize) => change({ pageSize, page: 1 })}
            />
          </div>
        )}
      </section>
    </Layout>
  );
}
