import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { Layout } from "../components/Layout";
import { Link } from "../components/Link";
import { ErrorMessage, Loading } from "../components/Status";
import type { GridState } from "../filters";
import { apiFilters, gridSearch, parseGridState } from "../filters";
import { useAsync, useTitle } from "../hooks";
import type { Neighbour } from "../neighbours";
import { findNeighbours } from "../neighbours";
import type { PageProps } from "../router";
import { navigate } from "../router";
import type { ImageDetail, Project } from "../types";
import { LabelSplitEditor } from "./image/LabelSplitEditor";
import { MetadataTable } from "./image/MetadataTable";
import { PromptList } from "./image/PromptList";

export function ImagePage(props: PageProps) {
  const id = props.params.id;
  const grid = parseGridState(props.query);
  const search = gridSearch(grid);
  const image = useAsync(() => api.image(id), [id]);
  const [edited, setEdited] = useState<ImageDetail | null>(null);
  useEffect(() => setEdited(null), [id]);
  const current = edited && String(edited.id) === id ? edited : image.data;
  const projectId = image.data?.project;
  const project = useAsync(
    () => (projectId === undefined ? new Promise<Project>(() => {}) : api.project(projectId)),
    [projectId],
  );
  const prompts = useAsync(() => api.prompts(id), [id]);
  useTitle(current?.name ?? "Image");

  if (image.error && !image.data) {
    return (
      <Layout crumbs={[{ label: "Image" }]}>
        <ErrorMessage
          error={image.error}
          onRetry={image.reload}
          title="This image could not be loaded."
        />
        <p>
          <Link href="/">Back to your projects</Link>
        </p>
      </Layout>
    );
  }
  if (!current) {
    return (
      <Layout crumbs={[{ label: "…" }]}>
        <Loading label="Loading image…" />
      </Layout>
    );
  }

  const p = project.data;
  const gridHref = `/projects/${current.project}${search}`;
  const canAnnotate = p?.my_role === "admin" || p?.my_role === "annotator";

  return (
    <Layout crumbs={[{ label: p?.name ?? "Project", href: gridHref }, { label: current.name }]}>
      <div class="page-header">
        <div class="title-block">
          <h1 class="image-title">{current.name}</h1>
          {p && <LabelSplitEditor image={current} project={p} onSaved={setEdited} />}
        </div>
        <div class="actions">
          <Link class="button button-primary" href={`/images/${current.id}/annotate${search}`}>
            {canAnnotate ? "Annotate" : "View prompts on canvas"}
          </Link>
          <a class="button" href={current.original_url} download>
            Original
          </a>
        </div>
      </div>
      {project.error !== null && <ErrorMessage error={project.error} onRetry={project.reload} />}
      <ImageNavigation
        imageId={current.id}
        projectId={current.project}
        grid={grid}
        gridHref={gridHref}
      />
      <div class="image-layout">
        <DisplayRendition image={current} key={current.display_url} />
        <aside class="image-side">
          <section aria-labelledby="prompts-title" class="card">
            <h2 id="prompts-title">Prompts</h2>
            {prompts.loading && !prompts.data && <Loading label="Loading prompts…" />}
            {prompts.error !== null && (
              <ErrorMessage error={prompts.error} onRetry={prompts.reload} />
            )}
            {prompts.data && <PromptList prompts={prompts.data} />}
          </section>
          <section aria-labelledby="metadata-title" class="card">
            <h2 id="metadata-title">Metadata</h2>
            <MetadataTable image={current} />
          </section>
        </aside>
      </div>
    </Layout>
  );
}

function DisplayRendition(props: { image: ImageDetail }) {
  // The parent keys this component by URL, so a new rendition starts again from "loading".
  const [state, setState] = useState<"loading" | "loaded" | "failed">("loading");
  return (
    <figure class="display">
      <div class={`display-frame display-${state}`}>
        {state === "loading" && <Loading label="Loading image…" />}
        {state === "failed" && (
          <p class="alert alert-error" role="alert">
            The display rendition could not be loaded.
          </p>
        )}
        <img
          src={props.image.display_url}
          alt={`${props.image.name}, display rendition`}
          width={props.image.width}
          height={props.image.height}
          class={Math.max(props.image.width, props.image.height) < 512 ? "pixelated" : undefined}
          style={{ "--ar": String(props.image.width / Math.max(1, props.image.height)) }}
          data-testid="display-image"
          onLoad={() => setState("loaded")}
          onError={() => setState("failed")}
        />
      </div>
      <figcaption class="muted">
        {props.image.width} × {props.image.height} px
        {props.image.is_dicom &&
          ` · window centre ${props.image.window_center ?? "—"}, width ${props.image.window_width ?? "—"}`}
      </figcaption>
    </figure>
  );
}

function neighbourHref(neighbour: Neighbour, grid: GridState): string {
  return `/images/${neighbour.id}${gridSearch({ ...grid, page: neighbour.page })}`;
}

/** Back to the grid, position in the filtered list, previous / next (also ← and → keys). */
function ImageNavigation(props: {
  imageId: number;
  projectId: number;
  grid: GridState;
  gridHref: string;
}) {
  const { grid } = props;
  const neighbours = useAsync(
    () =>
      findNeighbours(props.imageId, grid.page, grid.pageSize, (page) =>
        api.images(props.projectId, apiFilters({ ...grid, page })),
      ),
    [props.imageId, props.projectId, gridSearch(grid)],
  );
  const data = neighbours.data;

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.altKey || event.ctrlKey || event.metaKey || !data) return;
      if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) return;
      const to =
        event.key === "ArrowLeft" ? data.previous : event.key === "ArrowRight" ? data.next : null;
      if (to) navigate(neighbourHref(to, grid));
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [data]);

  return (
    <nav class="image-nav" aria-label="Images in this list">
      <Link href={props.gridHref} class="button button-ghost button-small">
        ‹ All images
      </Link>
      <span class="muted image-position">
        {data?.position ? `${data.position} of ${data.count}` : ""}
      </span>
      <span class="image-nav-buttons">
        {data?.previous ? (
          <Link
            href={neighbourHref(data.previous, grid)}
            class="button button-small"
            rel="prev"
            title={data.previous.name}
          >
            ← Previous
          </Link>
        ) : (
          <span class="button button-small" aria-disabled="true">
            ← Previous
          </span>
        )}
        {data?.next ? (
          <Link
            href={neighbourHref(data.next, grid)}
            class="button button-small"
            rel="next"
            title={data.next.name}
          >
            Next →
          </Link>
        ) : (
          <span class="button button-small" aria-disabled="true">
            Next →
          </span>
        )}
      </span>
    </nav>
  );
}
