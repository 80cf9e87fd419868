import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

// A running pull's form follows the run by itself: another page fetched on the server shows up
// without the operator reloading anything.
registry.category("web_tour.tours").add("hc_batch_run_refresh", {
    steps: () => [
        {
            content: "The running pull shows the pages fetched so far",
            trigger: ".o_form_view [name='progress_label']:contains('0 of 1 pages fetched so far')",
        },
        {
            content: "Meanwhile the pull fetches two more pages (as its jobs do)",
            trigger: ".o_form_view [name='progress_label']",
            run: async () => {
                const runId = Number(window.location.pathname.split("/").pop());
                await rpc("/web/dataset/call_kw/hc.batch.run/write", {
                    model: "hc.batch.run", method: "write", args: [[runId], { pages_fetched: 3 }], kwargs: {},
                });
            },
        },
        {
            content: "The form shows them without a reload",
            trigger: ".o_form_view [name='progress_label']:contains('0 of 3 pages fetched so far')",
            timeout: 15000,
        },
    ],
});
