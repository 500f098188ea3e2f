// The annotator's main screen, /images/:id/annotate: the prompt canvas of one image.
// Query: `class` (target class; default the image label, else the project's positive class) and
// the queue filters `split`, `label`, `unprompted=1` (the image grid's `has_prompt=false` also
// selects "unprompted") and `selection=<id>` (only that saved selection's images, in its order).

import "./annotate.css";
import { api } from "../../api";
import { useSession } from "../../auth";
import { parseQueueFilters, queueSearch } from "../../canvas/queue";
import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import { loadSelection } from "./io";
import { SelectionHeader } from "./SelectionHeader";
import { annotateHref, chooseTargetClass } from "./session";
import { Workspace } from "./Workspace";

export default function AnnotatePage(props: PageProps) {
  const id = props.params.id;
  const { user } = useSession();
  const loaded = useAsync(async () => {
    const image = await api.image(id);
    const project = await api.project(image.project);
    return { image, project };
  }, [id]);
  useTitle(loaded.data ? `Annotate ${loaded.data.image.name}` : "Annotate");

  const filters = parseQueueFilters(props.query);
  if (props.query.get("has_prompt") === "false") filters.unprompted = true;
  // Loaded here, not in the workspace, so moving through the selection does not reload it.
  const selection = useAsync(
    async () => (filters.selection === null ? undefined : loadSelection(filters.selection)),
    [filters.selection],
  );

  const current = loaded.data && String(loaded.data.image.id) === id ? loaded.data : null;
  if (loaded.error && !current) {
    return (
      <Layout crumbs={[{ label: "Annotate" }]}>
        <ErrorMessage
          error={loaded.error}
          onRetry={loaded.reload}
          title="This image could not be loaded."
        />
        <p>
          <Link href="/">Back to your projects</Link>
        </p>
      </Layout>
    );
  }
  if (!current || !user) {
    return (
      <Layout crumbs={[{ label: "Annotate" }]} wide>
        <Loading label="Loading image…" />
      </Layout>
    );
  }
  const { image, project } = current;
  const targetClass = chooseTargetClass(props.query.get("class"), image, project);
  return (
    <Layout
      wide
      crumbs={[
        { label: project.name, href: `/projects/${project.id}` },
        { label: image.name, href: `/images/${image.id}${queueSearch(filters)}` },
        { label: "Annotate" },
      ]}
    >
      <Workspace
        key={`${image.id}/${targetClass}`}
        image={image}
        project={project}
        user={user}
        targetClass={targetClass}
        filters={filters}
        header={
          filters.selection !== null && (
            <SelectionHeader
              selectionId={filters.selection}
              selection={selection.data}
              error={selection.error}
              imageId={image.id}
              leaveHref={annotateHref(image.id, { ...filters, selection: null }, targetClass)}
            />
          )
        }
      />
    </Layout>
  );
}
