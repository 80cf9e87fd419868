import { registry } from "@web/core/registry";

const lab = ".o_kanban_record:contains('Tour Lab')";

// An operator sees a failing backend on the dashboard, opens its exception queue, retries the
// failed message once its cause is fixed, and sees the error rate fall.
registry.category("web_tour.tours").add("hc_dashboard_retry", {
    steps: () => [
        {
            content: "The dashboard shows the backend's error rate over the last 24 hours",
            trigger: `${lab} td[name='error_rate']:contains('50.0')`,
        },
        {
            content: "and the age of its oldest open message",
            trigger: `${lab} td[name='oldest']:contains('90 min')`,
        },
        {
            content: "Open the backend's exception queue",
            trigger: `${lab} button[name='action_view_exceptions']`,
            run: "click",
        },
        {
            content: "Only this backend's failed message is listed",
            trigger: ".o_list_view .o_data_row td:contains('DASH-1')",
            run: "click",
        },
        {
            trigger: ".o_form_view .alert-danger:contains('No field of Contact')",
        },
        {
            content: "The cause is fixed: retry",
            trigger: ".o_form_view button[name='action_retry']",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Queued')",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains('Integration dashboard')",
            run: "click",
        },
        {
            content: "No message of the backend is in exception any more: its error rate falls to 0",
            trigger: `${lab} td[name='error_rate']:contains('0.0'):not(:contains('50.0'))`,
        },
        {
            content: "the retried message is still open until the job runner processes it",
            trigger: `${lab} td[name='oldest']:contains('90 min')`,
        },
    ],
});

registry.category("web_tour.tours").add("hc_dashboard_after_job", {
    steps: () => [
        {
            content: "Once processed, nothing of the backend is open any more",
            trigger: `${lab} td[name='oldest']:contains('none open')`,
        },
        {
            trigger: `${lab} td[name='error_rate']:contains('0.0')`,
        },
        {
            trigger: `${lab} td[name='per_hour']:not(:contains('0.0'))`,
        },
    ],
});
