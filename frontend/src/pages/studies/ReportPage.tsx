// The report of a rating study (admins): ratings per condition, Kruskal-Wallis and Dunn's test,
// agreement between reviewers, the matrix of each model condition, and CSV / JSON exports.

import { Layout } from "../../components/Layout";
import { Link } from "../../components/Link";
import { ErrorMessage, Loading } from "../../components/Status";
import { useAsync, useTitle } from "../../hooks";
import type { PageProps } from "../../router";
import type { KappaPair, StudyReport } from "../review/api";
import { fmt, fmtP, reviewApi } from "../review/api";
import { MatrixView } from "../review/MatrixView";
import { LikertChart } from "./charts";
import "../review/review.css";

function Kappas(props: { title: string; pairs: KappaPair[]; fleiss: StudyReport["agreement"]["likert"]["fleiss"] }) {
  return (
    <div>
      <h3>{props.title}</h3>
      <table class="table">
        <tbody>
          {props.pairs.map((pair) => (
            <tr key={`${pair.a}-${pair.b}`}>
              <td>
                {pair.a} · {pair.b} <span class="muted">(Cohen, {pair.n} items)</span>
              </td>
              <td>{fmt(pair.kappa)}</td>
            </tr>
          ))}
          <tr>
            <td>
              all {props.fleiss.raters} reviewers <span class="muted">(Fleiss, nominal, {props.fleiss.items} items)</span>
            </td>
            <td>{fmt(props.fleiss.kappa)}</td>
          </tr>
        </tbody>
      </table>
    </div>
  );
}

export default function ReportPage(props: PageProps) {
  const id = props.params.id;
  const study = useAsync(() => reviewApi.study(id), [id]);
  const report = useAsync(() => reviewApi.report(id), [id]);
  useTitle(study.data ? `Report · ${study.data.name}` : "Report");
  const r = report.data;
  const s = study.data;
  const crumbs = [
    { label: "Studies", href: s ? `/projects/${s.project}/studies` : undefined },
    { label: s?.name ?? "…", href: `/studies/${id}` },
    { label: "Report" },
  ];
  if (report.error) {
    return (
      <Layout crumbs={crumbs}>
        <ErrorMessage error={report.error} onRetry={report.reload} title="The report could not be loaded." />
      </Layout>
    );
  }
  if (!r) {
    return (
      <Layout crumbs={crumbs}>
        <Loading label="Computing the report…" />
      </Layout>
    );
  }
  const kw = r.kruskal_wallis;
  const asksLikert = r.questions.includes("likert");
  const asksReasonable = r.questions.includes("q1") && r.questions.includes("q2");
  return (
    <Layout crumbs={crumbs}>
      <div class="page-header">
        <div>
          <h1>Report: {r.study.name}</h1>
          <p class="muted">{r.study.status}</p>
        </div>
        <div class="actions">
          <a class="button" href={reviewApi.exportUrl(id, "csv")} download>
            Export CSV
          </a>
          <a class="button" href={reviewApi.exportUrl(id, "json")} download>
            Export JSON
          </a>
          <Link class="button" href={`/studies/${id}`}>
            Study
          </Link>
        </div>
      </div>
      <section class="card">
        <h2>Ratings per condition</h2>
        <table class="table" data-testid="condition-table">
          <thead>
            <tr>
              <th>Condition</th>
              {asksLikert && (
                <>
                  <th>n</th>
                  <th>Mean</th>
                  <th>SD</th>
                  <th>Median</th>
                </>
              )}
              {asksReasonable && <th>Reasonable</th>}
            </tr>
          </thead>
          <tbody>
            {r.conditions.map((c) => (
              <tr key={c.id}>
                <td>
                  {c.name} <span class="muted">({c.kind.replace("_", " ")})</span>
                </td>
                {asksLikert && (
                  <>
                    <td>{c.likert.n}</td>
                    <td>{fmt(c.likert.mean)}</td>
                    <td>{fmt(c.likert.sd)}</td>
                    <td>{fmt(c.likert.median, 1)}</td>
                  </>
                )}
                {asksReasonable && (
                  <td>
                    {c.reasonable.share === null ? "–" : `${Math.round(c.reasonable.share * 100)}%`}{" "}
                    <span class="muted">of {c.reasonable.n}</span>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
        {asksLikert && (
          <LikertChart
            series={r.conditions.map((c) => ({ name: c.name, counts: c.likert.distribution }))}
            anchors={r.likert_anchors}
          />
        )}
      </section>
      {asksLikert && (
        <section class="card" aria-label="Tests">
          <h2>Differences between conditions</h2>
          <p data-testid="kruskal-wallis">
            Kruskal-Wallis H = {fmt(kw.h, 3)}, df = {kw.df ?? "–"}, p = {fmtP(kw.p)}{" "}
            <span class="muted">(n = {kw.n})</span>
            {kw.reason && <span class="muted"> · {kw.reason}</span>}
          </p>
          <h3>Dunn's post-hoc test, {r.dunn.correction} correction</h3>
          <table class="table" data-testid="dunn-table">
            <thead>
              <tr>
                <th>Pair</th>
                <th>Mean ranks</th>
                <th>z</th>
                <th>p</th>
                <th>p ({r.dunn.correction})</th>
              </tr>
            </thead>
            <tbody>
              {r.dunn.pairs.map((pair) => (
                <tr key={`${pair.a}-${pair.b}`}>
                  <td>
                    {pair.a} vs {pair.b}
                  </td>
                  <td>
                    {fmt(pair.mean_rank_a, 1)} / {fmt(pair.mean_rank_b, 1)}
                  </td>
                  <td>{fmt(pair.z, 3)}</td>
                  <td>{fmtP(pair.p)}</td>
                  <td>
                    <strong>{fmtP(pair.p_adjusted)}</strong>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Mean rating by position shown</h3>
          <p class="muted small">
            {Object.entries(r.likert_by_slot)
              .map(([slot, d]) => `map ${slot}: ${fmt(d.mean)} (n ${d.n})`)
              .join(" · ")}
          </p>
        </section>
      )}
      {asksReasonable && r.conditions.some((c) => c.matrix) && (
        <section class="card">
          <h2>Reasonability matrix per condition</h2>
          <div class="matrix-row">
            {r.conditions.map(
              (c) =>
                c.matrix && (
                  <div key={c.id}>
                    <h3>{c.name}</h3>
                    <MatrixView
                      counts={c.matrix.counts}
                      raPerformance={c.matrix.ra_performance}
                      attentionAccuracy={c.matrix.attention_accuracy}
                    />
                  </div>
                ),
            )}
          </div>
        </section>
      )}
      <section class="card">
        <h2>Agreement between reviewers</h2>
        <div class="matrix-row">
          {asksLikert && (
            <Kappas title="Likert (quadratic weights)" pairs={r.agreement.likert.cohen_quadratic} fleiss={r.agreement.likert.fleiss} />
          )}
          {asksReasonable && (
            <Kappas title="Reasonable" pairs={r.agreement.reasonable.cohen} fleiss={r.agreement.reasonable.fleiss} />
          )}
        </div>
      </section>
      <section class="card">
        <h2>Progress and definitions</h2>
        <ul class="plain-list">
          {r.progress.map((row) => (
            <li key={row.username}>
              {row.username}: {row.complete} / {row.expected} ratings
            </li>
          ))}
        </ul>
        <dl class="definitions">
          {Object.entries(r.definitions).map(([name, text]) => (
            <div key={name}>
              <dt>{name}</dt>
              <dd class="muted small">{text}</dd>
            </div>
          ))}
        </dl>
      </section>
    </Layout>
  );
}
