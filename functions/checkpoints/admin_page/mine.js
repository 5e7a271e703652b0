// My jobs (/app/jobs): the signed-in person's own jobs, filtered and paged (GET /api/jobs), with their tags.
import { $, empty, h } from "./core.js";
import { createJobList } from "./job-list.js";

let list = null;

const none = () => h("div", { class: "empty", testid: "mine-none" }, "You have no jobs yet. ",
  h("a", { href: "/app/new", testid: "mine-create" }, "Create your first job"), ".");

export function initMine(openJob) {
  list = createJobList({
    prefix: "mine", view: "mine", endpoint: "/api/jobs", container: $("mine-filters"), openJob, showOwner: false,
    emptyText: none,
  });
  list.init();
}
export const loadMine = (quiet) => list.load(quiet);
export const resetMine = () => list.reset();
