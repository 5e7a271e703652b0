// The admins' All jobs view (/app/all-jobs): every user's jobs, filtered and paged (GET /api/admin/jobs). A row
// opens the job's own page. Its element ids keep the old admin page's names (jobs-status, jobs-list, …).
import { $, empty } from "./core.js";
import { createJobList } from "./job-list.js";

let list = null;

export function initJobs(openJob) {
  list = createJobList({
    prefix: "jobs", view: "jobs", endpoint: "/api/admin/jobs", container: $("jobs-filters"), openJob, showOwner: true,
    emptyText: () => empty("No jobs yet.", "jobs-empty"),
  });
  list.init();
}
export const loadJobs = (quiet) => list.load(quiet);
export const resetJobs = () => list.reset();
