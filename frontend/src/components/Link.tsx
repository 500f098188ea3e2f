import type { JSX } from "preact";
import { navigate } from "../router";

type AnchorProps = JSX.AnchorHTMLAttributes<HTMLAnchorElement> & { href: string };

/** An anchor that navigates inside the app; modified clicks (new tab, etc.) behave natively. */
export function Link(props: AnchorProps) {
  const { onClick, ...rest } = props;
  const handle = (event: JSX.TargetedMouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey ||
      props.target
    ) {
      return;
    }
    event.preventDefault();
    navigate(props.href);
  };
  return <a {...rest} onClick={handle} />;
}
