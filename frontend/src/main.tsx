import { render } from "preact";
import { App } from "./App";
import { routes } from "./routes";
import "./styles.css";

render(<App routes={routes} />, document.getElementById("app")!);
