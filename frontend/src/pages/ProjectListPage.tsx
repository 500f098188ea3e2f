import { useState } from "preact/hooks";
import { api } from "../api";
import { RoleBadge } from "../components/Badges";
import { Layout } from "../components/Layout";
import { Link } from "../components/Link";
import { EmptyState, ErrorMessage, Loading, errorMessage } from "../components/Status";
import { useAsync, useTitle } from "../hooks";
import { navigate } from "../router";
import type { Project } from "../types";

export function ProjectListPage() {
  useTitle("Projects");
  const projects = useAsync(() => api.projects({ page_size: 500 }), []);
  const [creating, setCreating] = useState(false);

  return (
    <Layout>
      <div class="page-header">
        <div>
          <h1>Projects</h1>
          <p class="muted">The projects you are a member of.</p>
        </div>
        {!creating && (
          <button type="button" class="button button-primary" onClick={() => setCreating(true)}>
            New project
          </button>
        )}
      </div>
      {creating && <NewProjectForm onCancel={() => setCreating(false)} />}
      {projects.loading && !projects.data && <Loading label="Loading projects…" />}
      {projects.error !== null && <ErrorMessage error={projects.error} onRetry={projects.reload} />}
      {projects.data && projects.data.results.length === 0 && (
        <EmptyState title="No projects yet">
          <p class="muted">Create one, or ask a project admin to add you as a member.</p>
        </EmptyState>
      )}
      {projects.data && projects.data.results.length > 0 && (
        <ul class="project-grid" aria-label="Projects">
          {projects.data.results.map((project) => (
            <ProjectCard project={project} key={project.id} />
          ))}
        </ul>
      )}
    </Layout>
  );
}

function ProjectCard(props: { project: Project }) {
  const p = props.project;
  const share = p.image_count ? Math.round((100 * p.prompted_image_count) / p.image_count) : 0;
  return (
    <li class="card project-card">
      <div class="project-card-head">
        <h2>
          <Link href={`/projects/${p.id}`}>{p.name}</Link>
        </h2>
        <RoleBadge role={p.my_role} />
      </div>
      {p.description && <p class="project-description">{p.description}</p>}
      <p class="project-classes">
        {p.class_names.map((name) => (
          <span class={name === p.positive_class ? "chip chip-positive" : "chip"} key={name}>
            {name}
          </span>
        ))}
      </p>
      <dl class="stats">
        <div>
          <dt>Images</dt>
          <dd>{p.image_count}</dd>
        </div>
        <div>
          <dt>With prompts</dt>
          <dd>
            {p.prompted_image_count} <span class="muted">({share}%)</span>
          </dd>
        </div>
      </dl>
      <div
        class="progress"
        role="progressbar"
        aria-label="Images with prompts"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={share}
      >
        <span style={{ width: `${share}%` }} />
      </div>
    </li>
  );
}

/** Parses "a, b, c" into unique trimmed class names. */
export function parseClassNames(text: string): string[] {
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  return [...new Set(names)];
}

function NewProjectForm(props: { onCancel: () => void }) {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [classes, setClasses] = useState("negative, positive");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const classNames = parseClassNames(classes);
    if (classNames.length < 2) {
      setError("A project needs at least two distinct class names.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const project = await api.createProject({
        name: name.trim(),
        description,
        class_names: classNames,
      });
      navigate(`/projects/${project.id}`);
    } catch (reason) {
      setError(errorMessage(reason));
      setBusy(false);
    }
  };

  return (
    <form class="card form-card" onSubmit={submit} aria-label="New project">
      <h2>New project</h2>
      {error && (
        <p class="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <div class="form-row">
        <label class="field">
          <span>Name</span>
          <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label class="field">
          <span>Classes</span>
          <input
            required
            value={classes}
            onInput={(e) => setClasses(e.currentTarget.value)}
            aria-describedby="classes-hint"
          />
          <small id="classes-hint" class="muted">
            Comma-separated, at least two; the second is the positive class.
          </small>
        </label>
      </div>
      <label class="field">
        <span>Description</span>
        <textarea
          rows={2}
          value={description}
          onInput={(e) => setDescription(e.currentTarget.value)}
        />
      </label>
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={busy}>
          {busy ? "Creating…" : "Create project"}
        </button>
        <button type="button" class="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
