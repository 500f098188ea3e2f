// The route table of the browser UI: the one place where pages register.
//
// To add a page, import its component (or wrap a dynamic import in `lazyPage` so its code loads
// only when the route is visited) and add one entry below:
//
//   import { lazyPage } from "./router";
//   { path: "/images/:id/annotate", component: lazyPage(() => import("./pages/annotate")) },
//
// A page component receives `PageProps` ({ params, query }); `:name` segments become
// `params.name`. Routes are matched in order, first match wins; `public: true` renders without a
// signed-in user. Pages render their own <Layout crumbs={...}> (components/Layout.tsx) and call
// the API through `api` / `request` from api.ts. Django serves index.html at every non-API path,
// so a new route needs no server change.

import { ImagePage } from "./pages/ImagePage";
import { LoginPage } from "./pages/LoginPage";
import { ProjectListPage } from "./pages/ProjectListPage";
import { ProjectPage } from "./pages/ProjectPage";
import type { Route } from "./router";
import { lazyPage } from "./router";

export const routes: Route[] = [
  { path: "/login", component: LoginPage, public: true },
  { path: "/", component: ProjectListPage },
  { path: "/projects/:id", component: ProjectPage },
  { path: "/images/:id", component: ImagePage },
  // Review, selections and rating studies.
  { path: "/projects/:id/review", component: lazyPage(() => import("./pages/review/ProjectReviewPage")) },
  { path: "/projects/:id/selections", component: lazyPage(() => import("./pages/selections/SelectionsPage")) },
  { path: "/projects/:id/studies", component: lazyPage(() => import("./pages/studies/StudiesPage")) },
  { path: "/model-versions/:id/review", component: lazyPage(() => import("./pages/review/ReviewPage")) },
  { path: "/model-versions/:id/matrix", component: lazyPage(() => import("./pages/review/MatrixPage")) },
  { path: "/studies/:id", component: lazyPage(() => import("./pages/studies/StudyPage")) },
  { path: "/studies/:id/report", component: lazyPage(() => import("./pages/studies/ReportPage")) },
  { path: "/images/:id/annotate", component: lazyPage(() => import("./pages/annotate")) },
  // Jobs, the model registry and prediction comparison.
  { path: "/projects/:id/jobs", component: lazyPage(() => import("./pages/jobs/JobsPage")) },
  { path: "/jobs/:id", component: lazyPage(() => import("./pages/jobs/JobPage")) },
  { path: "/projects/:id/models", component: lazyPage(() => import("./pages/models/ModelsPage")) },
  { path: "/images/:id/compare", component: lazyPage(() => import("./pages/compare/ComparePage")) },
];
