import { Layout } from "../components/Layout";
import { Link } from "../components/Link";
import { EmptyState } from "../components/Status";
import { useTitle } from "../hooks";

export function NotFoundPage() {
  useTitle("Page not found");
  return (
    <Layout crumbs={[{ label: "Not found" }]}>
      <EmptyState title="This page does not exist">
        <p>
          <Link href="/">Go to your projects</Link>
        </p>
      </EmptyState>
    </Layout>
  );
}
