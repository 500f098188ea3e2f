import { useEffect, useRef, useState } from "preact/hooks";
import type { GridState, Ordering } from "../../filters";
import { isFiltered } from "../../filters";
import type { Split } from "../../types";
import { SPLITS } from "../../types";

const ORDERING_LABELS: Record<Ordering, string> = {
  name: "Name A–Z",
  "-name": "Name Z–A",
  "-created_at": "Newest first",
  created_at: "Oldest first",
};

export interface GridFiltersProps {
  state: GridState;
  classNames: string[];
  /** Applies a change; `replace` is set while typing so each keystroke is not a history entry. */
  onChange: (change: Partial<GridState>, replace?: boolean) => void;
}

/** Split / label / prompt filters, a name search (debounced) and the sort order. */
export function GridFilters(props: GridFiltersProps) {
  const { state, onChange } = props;
  const [searchText, setSearchText] = useState(state.search);
  const pushed = useRef(state.search);
  const timer = useRef<number | undefined>(undefined);

  // Follow the URL when it changes from outside (back/forward), never while the user types.
  useEffect(() => {
    if (state.search !== pushed.current) {
      pushed.current = state.search;
      setSearchText(state.search);
    }
  }, [state.search]);
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const typeSearch = (value: string) => {
    setSearchText(value);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => {
      pushed.current = value;
      onChange({ search: value, page: 1 }, true);
    }, 300);
  };

  const clear = () => {
    window.clearTimeout(timer.current);
    pushed.current = "";
    setSearchText("");
    onChange({ split: "", label: "", hasPrompt: "", search: "", page: 1 });
  };

  return (
    <form
      class="filters"
      role="search"
      aria-label="Filter images"
      onSubmit={(e) => e.preventDefault()}
    >
      <label class="field field-search">
        <span>Search</span>
        <input
          type="search"
          name="search"
          placeholder="Image name contains…"
          value={searchText}
          onInput={(e) => typeSearch(e.currentTarget.value)}
        />
      </label>
      <label class="field">
        <span>Split</span>
        <select
          name="split"
          value={state.split}
          onChange={(e) => onChange({ split: e.currentTarget.value as Split | "", page: 1 })}
        >
          <option value="">All splits</option>
          {SPLITS.map((split) => (
            <option value={split} key={split}>
              {split}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>Label</span>
        <select
          name="label"
          value={state.label}
          onChange={(e) => onChange({ label: e.currentTarget.value, page: 1 })}
        >
          <option value="">All labels</option>
          {props.classNames.map((name) => (
            <option value={name} key={name}>
              {name}
            </option>
          ))}
          <option value="none">Unlabelled</option>
        </select>
      </label>
      <label class="field">
        <span>Prompt</span>
        <select
          name="has_prompt"
          value={state.hasPrompt}
          onChange={(e) =>
            onChange({ hasPrompt: e.currentTarget.value as GridState["hasPrompt"], page: 1 })
          }
        >
          <option value="">Any</option>
          <option value="true">Has a prompt</option>
          <option value="false">No prompt yet</option>
        </select>
      </label>
      <label class="field">
        <span>Sort</span>
        <select
          name="ordering"
          value={state.ordering}
          onChange={(e) => onChange({ ordering: e.currentTarget.value as Ordering, page: 1 })}
        >
          {(Object.keys(ORDERING_LABELS) as Ordering[]).map((key) => (
            <option value={key} key={key}>
              {ORDERING_LABELS[key]}
            </option>
          ))}
        </select>
      </label>
      {isFiltered(state) && (
        <button type="button" class="button button-ghost filters-clear" onClick={clear}>
          Clear filters
        </button>
      )}
    </form>
  );
}
