export const PAGE_SIZES = [24, 48, 96, 192] as const;

export interface PaginationProps {
  page: number;
  pageSize: number;
  count: number;
  onPage: (page: number) => void;
  onPageSize: (size: number) => void;
}

/** Previous / next buttons, "x–y of n", and a page-size selector. */
export function Pagination(props: PaginationProps) {
  const pages = Math.max(1, Math.ceil(props.count / props.pageSize));
  const first = props.count === 0 ? 0 : (props.page - 1) * props.pageSize + 1;
  const last = Math.min(props.count, props.page * props.pageSize);
  return (
    <nav class="pagination" aria-label="Pages">
      <span class="pagination-range" aria-live="polite">
        {first}–{last} of {props.count}
      </span>
      <div class="pagination-buttons">
        <button
          type="button"
          class="button button-small"
          disabled={props.page <= 1}
          onClick={() => props.onPage(props.page - 1)}
          aria-label="Previous page"
        >
          ‹ Prev
        </button>
        <span class="pagination-page">
          Page {props.page} of {pages}
        </span>
        <button
          type="button"
          class="button button-small"
          disabled={props.page >= pages}
          onClick={() => props.onPage(props.page + 1)}
          aria-label="Next page"
        >
          Next ›
        </button>
      </div>
      <label class="pagination-size">
        Per page
        <select
          value={String(props.pageSize)}
          onChange={(event) => props.onPageSize(Number(event.currentTarget.value))}
        >
          {PAGE_SIZES.map((size) => (
            <option value={String(size)} key={size}>
              {size}
            </option>
          ))}
        </select>
      </label>
    </nav>
  );
}
